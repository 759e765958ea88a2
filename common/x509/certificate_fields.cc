#include "common/x509/certificate_fields.h"

#include <openssl/x509v3.h>

#include <memory>

namespace imprint::x509 {

bool HasExtendedKeyUsage(const X509* cert, std::string_view oid) {
  int critical = 0;
  std::unique_ptr<EXTENDED_KEY_USAGE, decltype(&EXTENDED_KEY_USAGE_free)> eku(
      static_cast<EXTENDED_KEY_USAGE*>(
          X509_get_ext_d2i(cert, NID_ext_key_usage, &critical, nullptr)),
      &EXTENDED_KEY_USAGE_free);
  if (!eku) return false;
  std::string wanted(oid);
  std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> wanted_obj(
      OBJ_txt2obj(wanted.c_str(), 1), &ASN1_OBJECT_free);
  if (!wanted_obj) return false;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    if (OBJ_cmp(sk_ASN1_OBJECT_value(eku.get(), i), wanted_obj.get()) == 0) return true;
  }
  return false;
}

std::optional<std::string> SubjectCommonName(const X509* cert) {
  const X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, index) >= 0) {
    return std::nullopt;
  }
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, value);
  if (length < 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace imprint::x509
