#pragma once
// PEM/DER conversion for certificates and public keys, and SPKI fingerprints.
// All parsers cap their input (kMaxCertificateBytes) and fail with INVALID_ARGUMENT.

#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_error.h"
#include "common/x509/openssl_types.h"

namespace imprint::x509 {

// The DER of any OpenSSL object through its i2d function (i2d_X509_NAME, i2d_OCSP_CERTID, ...).
template <typename T, typename U>
Result<Bytes> ToDer(int (*i2d)(T*, unsigned char**), U* object) {
  unsigned char* der = nullptr;
  int len = i2d(object, &der);
  if (len <= 0) return std::unexpected(OpenSslError(Code::kInternal, "DER encoding"));
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

inline constexpr size_t kMaxCertificateBytes = 16 * 1024;
inline constexpr size_t kMaxPemBundleBytes = 256 * 1024;

Result<X509Ptr> ParseCertificateDer(ByteView der);
Result<X509Ptr> ParseCertificatePem(std::string_view pem);
// Every certificate in a PEM bundle, in file order; INVALID_ARGUMENT when there is none.
Result<std::vector<X509Ptr>> ParseCertificatesPem(std::string_view pem);

Result<Bytes> CertificateToDer(const X509* cert);
Result<std::string> CertificateToPem(const X509* cert);
// PEM of a DER certificate (RFC 7468 5): the bytes themselves, base64-encoded, after checking
// that they are one Certificate SEQUENCE of TBSCertificate, AlgorithmIdentifier and signature
// (INVALID_ARGUMENT otherwise). Not a full parse: OpenSSL 3.0's d2i_X509 decodes the key too,
// and the callers write certificates that were checked when they arrived.
Result<std::string> CertificateDerToPem(ByteView der);
// A PEM block with `label` ("CERTIFICATE REQUEST", ...) around `der`, not checked.
Result<std::string> DerToPem(ByteView der, const char* label);

// Unencrypted PKCS#8 PEM of a private key, for key files written 0600. The caller wipes it.
Result<std::string> PrivateKeyToPem(EVP_PKEY* key);

// SubjectPublicKeyInfo DER of `key` (RFC 5280 4.1.2.7).
Result<Bytes> PublicKeyToDer(const EVP_PKEY* key);
// A "PUBLIC KEY" PEM block (RFC 7468 13), e.g. the audit key that `init` writes.
Result<PkeyPtr> ParsePublicKeyPem(std::string_view pem);
// A DER SubjectPublicKeyInfo, all of `der` (trailing bytes are refused).
Result<PkeyPtr> ParsePublicKeyDer(ByteView der);

// SHA-256 over the DER SubjectPublicKeyInfo: the key's identity in the registry.
Result<Bytes> SpkiSha256(const EVP_PKEY* key);
// SHA-256 of arbitrary bytes (e.g. an SPKI already in DER).
Bytes Sha256(ByteView data);

// Certificate serial number as lower-case hex without leading zeros stripped (as encoded).
Result<std::string> SerialHex(const X509* cert);

}  // namespace imprint::x509
