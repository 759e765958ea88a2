#pragma once
// Signer: the interface certificates and CSRs are signed through. The production
// implementation is p11::Pkcs11Signer (the key stays in the token); EvpSigner signs with an
// in-memory key for devices with a file key store and for tests.

#include <string_view>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::x509 {

enum class SignatureAlgorithm {
  kEcdsaSha256,
  kEcdsaSha384,
  kRsaPkcs1Sha256,
  kRsaPkcs1Sha384,
  kRsaPssSha256,
  kRsaPssSha384,
};

std::string_view SignatureAlgorithmName(SignatureAlgorithm alg);

class Signer {
 public:
  virtual ~Signer() = default;

  virtual SignatureAlgorithm algorithm() const = 0;
  // The public half of the signing key; owned by the signer.
  virtual EVP_PKEY* public_key() const = 0;
  // Hashes `message` with the algorithm's digest and signs it. Returns the signature as X.509
  // carries it: a DER ECDSA-Sig-Value (RFC 3279 2.2.3) for ECDSA, raw octets for RSA.
  virtual Result<Bytes> Sign(ByteView message) = 0;
};

// The algorithm imprint uses for a key: ECDSA with SHA-256 for P-256, SHA-384 for P-384,
// PKCS#1 v1.5 with SHA-256 for RSA (RFC 5758, RFC 4055). INVALID_ARGUMENT for other keys.
Result<SignatureAlgorithm> DefaultAlgorithmFor(const EVP_PKEY* key);

// Verifies `signature` (as Sign returns it) over `message` with `key`.
Status VerifySignature(EVP_PKEY* key, SignatureAlgorithm alg, ByteView message, ByteView signature);

}  // namespace imprint::x509
