#include "common/password.h"

#include <openssl/crypto.h>

namespace imprint {

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

}  // namespace imprint
