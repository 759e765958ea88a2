#pragma once
// EvpSigner: a Signer over a private key held in process memory (OpenSSL EVP_PKEY).
// Used by the device agent's file key store and by tests; never for CA keys.
// Thread-safe: each Sign uses its own digest context.

#include "common/x509/signer.h"

namespace imprint::x509 {

class EvpSigner final : public Signer {
 public:
  // Takes ownership of `private_key`; picks DefaultAlgorithmFor(key).
  static Result<std::unique_ptr<EvpSigner>> Create(PkeyPtr private_key);

  SignatureAlgorithm algorithm() const override { return algorithm_; }
  EVP_PKEY* public_key() const override { return key_.get(); }
  // The same key with its private half, for a test that loads it elsewhere.
  EVP_PKEY* private_key() const { return key_.get(); }
  Result<Bytes> Sign(ByteView message) override;

 private:
  EvpSigner(PkeyPtr key, SignatureAlgorithm alg) : key_(std::move(key)), algorithm_(alg) {}
  PkeyPtr key_;
  SignatureAlgorithm algorithm_;
};

// Generates an in-memory key: "P-256", "P-384" or "RSA-3072".
Result<PkeyPtr> GenerateKey(std::string_view type);

}  // namespace imprint::x509
