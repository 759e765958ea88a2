#pragma once
// EcdhKey: a P-256 private key in the token that only derives (GenerateEcdhKeyPair): the ECDH
// shared secret with a peer's public point (CKM_ECDH1_DERIVE, CKD_NULL), for opening what was
// sealed to its public key (common/offline/sealed_secret.h). The private key never leaves the
// token; each shared secret is made as a session object, read out and destroyed at once.
// Thread-safe like HmacKey: each call borrows its own session; the key handle is cached.

#include <atomic>
#include <memory>

#include "common/pkcs11/objects.h"
#include "common/pkcs11/session_pool.h"
#include "common/secret.h"
#include "common/x509/openssl_types.h"

namespace imprint::p11 {

class EcdhKey {
 public:
  // The private key by `ref` (checked to stay in the token), and its public key object's key.
  static Result<std::unique_ptr<EcdhKey>> Find(SessionPool& pool, const ObjectRef& ref);
  EVP_PKEY* public_key() const { return public_key_.get(); }
  // The 32-byte shared secret (the x coordinate) with `peer_point`, an uncompressed P-256
  // point. INVALID_ARGUMENT for a point that is not one; UNAVAILABLE on token faults.
  Result<Secret> Derive(ByteView peer_point);

 private:
  EcdhKey(SessionPool& pool, ObjectRef ref, CK_OBJECT_HANDLE key, x509::PkeyPtr public_key)
      : pool_(pool), ref_(std::move(ref)), key_(key), public_key_(std::move(public_key)) {}
  SessionPool& pool_;
  ObjectRef ref_;
  std::atomic<CK_OBJECT_HANDLE> key_;
  x509::PkeyPtr public_key_;
};

}  // namespace imprint::p11
