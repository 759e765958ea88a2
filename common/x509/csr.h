#pragma once
// PKCS#10 certification requests (RFC 2986): parse, verify proof of possession, build.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/key_policy.h"
#include "common/x509/openssl_types.h"
#include "common/x509/signer.h"

namespace imprint::x509 {

inline constexpr size_t kMaxCsrBytes = 8 * 1024;

// A parsed request whose self-signature verified and whose key passed the policy.
struct VerifiedCsr {
  PkeyPtr public_key;
  KeyInfo key_info;
  Bytes spki_der;  // the key as CanonicalSpki encodes it: what is hashed and certified
};

// Parses a DER CSR (at most kMaxCsrBytes, strict DER, no trailing bytes), checks the key
// against `policy` and verifies the self-signature with that key (proof of possession). The
// signature must be ECDSA or PKCS#1 v1.5 with SHA-256 or SHA-384. Every failure is
// INVALID_ARGUMENT with a short message; nothing is trusted from the CSR beyond its key.
// The request is walked with der::Reader rather than d2i_X509_REQ, whose eager key decoding
// is the costliest step of issuance in OpenSSL 3.0 (see spki.h).
Result<VerifiedCsr> ParseAndVerifyCsr(ByteView der, const KeyPolicy& policy = {});
// The same for a PEM "CERTIFICATE REQUEST".
Result<VerifiedCsr> ParseAndVerifyCsrPem(std::string_view pem, const KeyPolicy& policy = {});

// Builds a CSR for signer's key with the given subject (attribute short name, UTF-8 value),
// signed through `signer`. Returns DER.
Result<Bytes> BuildCsr(Signer& signer,
                       const std::vector<std::pair<std::string, std::string>>& subject);

}  // namespace imprint::x509
