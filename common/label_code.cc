#include "common/label_code.h"

#include <openssl/sha.h>

namespace imprint {

std::string LabelCode(ByteView certificate_der) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(certificate_der.data(), certificate_der.size(), digest);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string code(kLabelCodePrefix);
  for (int i = 0; i < 8; ++i) {
    code += kHex[digest[i] >> 4];
    code += kHex[digest[i] & 0xf];
  }
  return code;
}

bool IsLabelCode(std::string_view text) {
  if (text.size() != kLabelCodePrefix.size() + 16 || !text.starts_with(kLabelCodePrefix)) {
    return false;
  }
  for (char c : text.substr(kLabelCodePrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

}  // namespace imprint
