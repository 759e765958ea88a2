#include "common/x509/name.h"

#include <openssl/objects.h>

#include "common/x509/openssl_error.h"

namespace imprint::x509 {
namespace {

bool IsDottedOid(const std::string& field) {
  return !field.empty() && field.find('.') != std::string::npos &&
         field.find_first_not_of("0123456789.") == std::string::npos;
}

}  // namespace

Result<X509NamePtr> BuildName(const std::vector<std::pair<std::string, std::string>>& rdns) {
  X509NamePtr name(X509_NAME_new());
  if (!name) return std::unexpected(OpenSslError(Code::kInternal, "X509_NAME_new"));
  for (const auto& [field, value] : rdns) {
    if (value.empty() || value.size() > kMaxNameValueBytes) {
      return Fail(Code::kInvalidArgument, "name attribute " + field + " is empty or too long");
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(value.data());
    int length = static_cast<int>(value.size());
    int added = 0;
    if (IsDottedOid(field)) {
      Asn1ObjectPtr object(OBJ_txt2obj(field.c_str(), 1));
      if (!object) return Fail(Code::kInvalidArgument, "malformed attribute OID " + field);
      added = X509_NAME_add_entry_by_OBJ(name.get(), object.get(), V_ASN1_UTF8STRING, bytes, length,
                                         -1, 0);
    } else {
      int nid = OBJ_txt2nid(field.c_str());
      if (nid == NID_undef) return Fail(Code::kInvalidArgument, "unknown name attribute " + field);
      added = X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8, bytes, length, -1, 0);
    }
    if (added != 1) {
      return std::unexpected(
          OpenSslError(Code::kInvalidArgument, "name attribute " + field + " rejected"));
    }
  }
  return name;
}

}  // namespace imprint::x509
