#include "ca/secret_generator.h"

#include <openssl/crypto.h>

namespace imprint::ca {

Result<Secret> DrawPassword(const RandomSource& random, int length) {
  const size_t n = kPasswordAlphabet.size();
  const size_t limit = 256 - (256 % n);  // accept bytes below the largest multiple of n
  std::string password;
  password.reserve(static_cast<size_t>(length));
  for (int round = 0; round < 16 && password.size() < static_cast<size_t>(length); ++round) {
    IMPRINT_ASSIGN_OR_RETURN(Bytes bytes, random(static_cast<size_t>(length) * 2));
    for (uint8_t b : bytes) {
      if (b >= limit) continue;
      password.push_back(kPasswordAlphabet[b % n]);
      if (password.size() == static_cast<size_t>(length)) break;
    }
    OPENSSL_cleanse(bytes.data(), bytes.size());
  }
  if (password.size() != static_cast<size_t>(length)) {
    return Fail(Code::kUnavailable, "random generator returned too few usable bytes");
  }
  return Secret(std::move(password));
}

Secret VerifierMessage(std::string_view device_id, std::string_view name, std::string_view value) {
  static constexpr std::string_view kContext{"imprint-secret-v1\0", 18};
  std::string out;
  out.reserve(kContext.size() + device_id.size() + name.size() + value.size() + 2);  // no regrowth
  out.append(kContext);
  out.append(device_id);
  out.push_back('\0');
  out.append(name);
  out.push_back('\0');
  out.append(value);
  return Secret(std::move(out));
}

}  // namespace imprint::ca
