#pragma once
// HmacKey: HMAC-SHA-256 (CKM_SHA256_HMAC) with a secret key that never leaves the token.
// Thread-safe like Pkcs11Signer: each call borrows its own session; the key handle is cached.

#include <atomic>
#include <memory>

#include "common/pkcs11/objects.h"
#include "common/pkcs11/session_pool.h"

namespace imprint::p11 {

class HmacKey {
 public:
  static Result<std::unique_ptr<HmacKey>> Find(SessionPool& pool, const ObjectRef& ref);
  // 32-byte MAC of `data`. UNAVAILABLE on token faults (retried on a fresh session first).
  Result<Bytes> Mac(ByteView data);

 private:
  HmacKey(SessionPool& pool, ObjectRef ref, CK_OBJECT_HANDLE key)
      : pool_(pool), ref_(std::move(ref)), key_(key) {}
  SessionPool& pool_;
  ObjectRef ref_;
  std::atomic<CK_OBJECT_HANDLE> key_;
};

}  // namespace imprint::p11
