#pragma once
// Console passwords: kept only as scrypt hashes (docs/console.md, "Users and sessions").

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.h"

namespace imprint::ca {

// "$scrypt$ln=15,r=8,p=1$<salt>$<hash>" (base64url): scrypt (RFC 7914) through OpenSSL's
// EVP_KDF with N = 2^15, r = 8, p = 1 and a 16-byte random salt; 32 MB and some 50 ms a hash.
Result<std::string> HashPassword(std::string_view password);
// Constant-time check; false for a hash it cannot parse.
bool VerifyPassword(std::string_view stored, std::string_view password);

inline constexpr size_t kMinConsolePasswordLength = 12;

}  // namespace imprint::ca
