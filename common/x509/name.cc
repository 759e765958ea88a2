#include "common/x509/name.h"

#include <openssl/objects.h>

#include "common/x509/openssl_error.h"

namespace imprint::x509 {

Result<X509NamePtr> BuildName(const std::vector<std::pair<std::string, std::string>>& rdns) {
  X509NamePtr name(X509_NAME_new());
  if (!name) return std::unexpected(OpenSslError(Code::kInternal, "X509_NAME_new"));
  for (const auto& [field, value] : rdns) {
    int nid = OBJ_txt2nid(field.c_str());
    if (nid == NID_undef) return Fail(Code::kInvalidArgument, "unknown name attribute " + field);
    if (value.empty() || value.size() > kMaxNameValueBytes) {
      return Fail(Code::kInvalidArgument, "name attribute " + field + " is empty or too long");
    }
    if (X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return std::unexpected(
          OpenSslError(Code::kInvalidArgument, "name attribute " + field + " rejected"));
    }
  }
  return name;
}

}  // namespace imprint::x509
