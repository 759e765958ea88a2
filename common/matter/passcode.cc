#include "common/matter/passcode.h"

#include <array>

namespace imprint::matter {
namespace {

// Matter Core Specification 5.1.7.1: trivially guessed values are never used.
constexpr std::array<uint32_t, 12> kForbidden = {
    0,        11111111, 22222222, 33333333, 44444444, 55555555,
    66666666, 77777777, 88888888, 99999999, 12345678, 87654321,
};

Result<uint32_t> RandomBits(const RandomSource& random, int bits) {
  IMPRINT_ASSIGN_OR_RETURN(Bytes raw, random(4));
  if (raw.size() != 4) return Fail(Code::kInternal, "random source returned a short read");
  uint32_t value = (uint32_t{raw[0]} << 24) | (uint32_t{raw[1]} << 16) | (uint32_t{raw[2]} << 8) |
                   uint32_t{raw[3]};
  return value & ((uint32_t{1} << bits) - 1);
}

}  // namespace

bool IsValidPasscode(uint32_t passcode) {
  if (passcode < 1 || passcode > kMaxPasscode) return false;
  for (uint32_t forbidden : kForbidden) {
    if (passcode == forbidden) return false;
  }
  return true;
}

Result<uint32_t> DrawPasscode(const RandomSource& random) {
  constexpr int kAttempts = 64;  // a fair source fails all of them with odds below 2^-100
  for (int i = 0; i < kAttempts; ++i) {
    IMPRINT_ASSIGN_OR_RETURN(uint32_t candidate, RandomBits(random, 27));
    if (IsValidPasscode(candidate)) return candidate;
  }
  return Fail(Code::kInternal, "random source gave no valid Matter passcode in 64 draws");
}

Result<uint16_t> DrawDiscriminator(const RandomSource& random) {
  IMPRINT_ASSIGN_OR_RETURN(uint32_t value, RandomBits(random, 12));
  return static_cast<uint16_t>(value);
}

}  // namespace imprint::matter
