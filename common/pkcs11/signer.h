#pragma once
// Pkcs11Signer: an x509::Signer whose private key lives in a PKCS#11 token. The message is
// hashed in process; only the digest goes to the token (CKM_ECDSA, CKM_RSA_PKCS over a
// DigestInfo, CKM_RSA_PKCS_PSS). Key handles are looked up once and cached; faults are
// recovered by CallWithKey (key_call.h). Thread-safe: each Sign borrows its own session from the
// pool.

#include <atomic>
#include <memory>
#include <optional>

#include "common/pkcs11/objects.h"
#include "common/pkcs11/session_pool.h"
#include "common/x509/signer.h"

namespace imprint::p11 {

class Pkcs11Signer final : public x509::Signer {
 public:
  // Finds the private key and the public key with the same reference. `algorithm` defaults to
  // x509::DefaultAlgorithmFor(public key); RSA keys may choose PKCS#1 v1.5 or PSS.
  static Result<std::unique_ptr<Pkcs11Signer>> Create(
      SessionPool& pool, const ObjectRef& ref,
      std::optional<x509::SignatureAlgorithm> algorithm = std::nullopt);

  x509::SignatureAlgorithm algorithm() const override { return algorithm_; }
  EVP_PKEY* public_key() const override { return public_key_.get(); }
  // Errors: UNAVAILABLE for token faults (retried once on a fresh session first).
  Result<Bytes> Sign(ByteView message) override;

 private:
  Pkcs11Signer(SessionPool& pool, ObjectRef ref, CK_OBJECT_HANDLE key, x509::PkeyPtr public_key,
               x509::SignatureAlgorithm algorithm, x509::MdPtr digest);

  Result<Bytes> SignDigest(SessionPool::Lease& lease, CK_OBJECT_HANDLE key, ByteView digest);

  SessionPool& pool_;
  ObjectRef ref_;
  std::atomic<CK_OBJECT_HANDLE> key_;
  x509::PkeyPtr public_key_;
  x509::SignatureAlgorithm algorithm_;
  x509::MdPtr digest_;  // fetched once: OpenSSL 3 fetches are costly per call
};

}  // namespace imprint::p11
