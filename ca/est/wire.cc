#include "ca/est/wire.h"

#include <openssl/pkcs7.h>

#include "common/base64.h"
#include "common/x509/openssl_error.h"

namespace imprint::ca::est {

Result<Bytes> DecodeBody(std::string_view body) {
  std::string compact;
  compact.reserve(body.size());
  for (char c : body) {
    if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
    compact.push_back(c);
  }
  auto der = Base64Decode(compact);
  if (!der || der->empty()) return Fail(Code::kInvalidArgument, "body is not base64");
  return std::move(*der);
}

Result<std::string> CertsOnly(const std::vector<const X509*>& certificates) {
  PKCS7* p7 = PKCS7_new();
  if (p7 == nullptr || PKCS7_set_type(p7, NID_pkcs7_signed) != 1 ||
      PKCS7_content_new(p7, NID_pkcs7_data) != 1) {
    PKCS7_free(p7);
    return std::unexpected(x509::OpenSslError(Code::kInternal, "PKCS7_set_type"));
  }
  for (const X509* cert : certificates) {
    // PKCS7_add_certificate takes its own reference.
    if (PKCS7_add_certificate(p7, const_cast<X509*>(cert)) != 1) {
      PKCS7_free(p7);
      return std::unexpected(x509::OpenSslError(Code::kInternal, "PKCS7_add_certificate"));
    }
  }
  unsigned char* der = nullptr;
  int n = i2d_PKCS7(p7, &der);
  PKCS7_free(p7);
  if (n <= 0) return std::unexpected(x509::OpenSslError(Code::kInternal, "i2d_PKCS7"));
  std::string out = Base64Encode(ByteView(der, static_cast<size_t>(n)));
  OPENSSL_free(der);
  return out;
}

Result<std::string> CsrCommonName(ByteView csr_der) {
  const unsigned char* p = csr_der.data();
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size()));
  if (req == nullptr) {
    x509::ClearOpenSslErrors();
    return Fail(Code::kInvalidArgument, "body is not a PKCS#10 request");
  }
  const X509_NAME* name = X509_REQ_get_subject_name(req);
  int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, at) >= 0) {
    X509_REQ_free(req);
    return Fail(Code::kInvalidArgument, "the request's subject must hold exactly one CN");
  }
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  std::string cn(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                 static_cast<size_t>(ASN1_STRING_length(value)));
  X509_REQ_free(req);
  return cn;
}

}  // namespace imprint::ca::est
