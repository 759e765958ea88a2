#pragma once
// Base64 (RFC 4648 4, with padding) and base64url (RFC 4648 5, without padding, as JOSE
// uses it: RFC 7515 2).

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace imprint {

std::string Base64Encode(ByteView data);
// Strict: length a multiple of 4, padding only at the end; nullopt otherwise.
std::optional<Bytes> Base64Decode(std::string_view text);

std::string Base64UrlEncode(ByteView data);
// Unpadded base64url; nullopt on any other character, on padding or on an impossible length.
std::optional<Bytes> Base64UrlDecode(std::string_view text);

}  // namespace imprint
