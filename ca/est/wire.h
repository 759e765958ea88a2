#pragma once
// EST's message bodies (RFC 7030 4, as RFC 8951 clarifies them): requests are base64 of DER
// (PKCS#10 for enrollment), answers base64 of a certs-only CMS SignedData (PKCS #7, RFC 5652
// 5), no signers. Written without line breaks: strongSwan's pki 5.9.8 refuses wrapped base64.

#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"

namespace imprint::ca::est {

inline constexpr const char* kCertsOnlyType = "application/pkcs7-mime; smime-type=certs-only";
inline constexpr const char* kPkcs10Type = "application/pkcs10";

// The DER a request body carries: base64, where line breaks and spaces (RFC 2045's wrapping)
// are skipped and anything else outside the alphabet is INVALID_ARGUMENT.
Result<Bytes> DecodeBody(std::string_view body);

// The certificates as a certs-only PKCS #7 SignedData, DER in base64 without line breaks.
Result<std::string> CertsOnly(const std::vector<const X509*>& certificates);

// The CN of a PKCS#10 request's subject (the device id); INVALID_ARGUMENT without exactly one.
Result<std::string> CsrCommonName(ByteView csr_der);

}  // namespace imprint::ca::est
