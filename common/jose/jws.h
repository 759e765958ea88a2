#pragma once
// JSON Web Signature in the flattened JSON serialization (RFC 7515 7.2.2) and public JWKs
// (RFC 7517, RFC 7518 6): what the device manifest and the evidence pack are made of.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/x509/signer.h"

namespace imprint::jose {

// The JWS "alg" (RFC 7518 3.1) of a signature algorithm: ES256, ES384, RS256, RS384, PS256,
// PS384; and back. INVALID_ARGUMENT for anything else (never "none").
std::string_view JwsAlgorithm(x509::SignatureAlgorithm alg);
Result<x509::SignatureAlgorithm> SignatureAlgorithmFromJws(std::string_view alg);

// Signs payloads with one key and one protected header, encoded once. Thread-safe when the
// signer is (the PKCS#11 signer is).
class JwsSigner {
 public:
  // `header` gets "alg" from the signer's algorithm; the caller adds kid, x5t#S256 and so on.
  JwsSigner(x509::Signer& signer, nlohmann::json header);

  // {"payload", "protected", "header" (when `unprotected` is not null), "signature"}.
  Result<nlohmann::json> Sign(std::string_view payload,
                              const nlohmann::json& unprotected = nullptr) const;

 private:
  x509::Signer& signer_;
  std::string protected_b64_;
};

struct VerifiedJws {
  nlohmann::json header;  // the protected header, decoded
  std::string payload;
};

// Checks a flattened JWS's shape, its protected header's alg (which must be the algorithm
// imprint uses for `key`) and its signature with `key`. INVALID_ARGUMENT for a malformed
// object, DATA_LOSS for a signature that does not verify.
Result<VerifiedJws> VerifyJws(const nlohmann::json& jws, EVP_PKEY* key);
// Decodes the protected header without checking anything, to find the key to check it with.
Result<nlohmann::json> PeekProtectedHeader(const nlohmann::json& jws);

// The public JWK of an EC (P-256, P-384, P-521) or RSA key: kty, crv, x, y or n, e.
Result<nlohmann::json> PublicJwk(const EVP_PKEY* key);

}  // namespace imprint::jose
