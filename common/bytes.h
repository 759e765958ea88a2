#pragma once
// Byte buffers and hex helpers used across imprint.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imprint {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Lower-case hex of `data`.
std::string HexEncode(ByteView data);
// Decodes hex (either case); false on odd length or a non-hex character.
bool HexDecode(std::string_view hex, Bytes* out);

}  // namespace imprint
