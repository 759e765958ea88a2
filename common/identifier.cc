#include "common/identifier.h"

#include <cstdio>

namespace imprint {

bool IsValidIdentifier(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  if (id == "." || id == "..") return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string EscapeForDisplay(std::string_view text, size_t max_bytes) {
  std::string out;
  size_t shown = std::min(text.size(), max_bytes);
  out.reserve(shown);
  for (size_t i = 0; i < shown; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  if (text.size() > shown) out += "...";
  return out;
}

}  // namespace imprint
