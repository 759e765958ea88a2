#pragma once
// Matter setup passcodes and discriminators (Matter Core Specification 5.1.7.1 and 5.1.1.5):
// what a device is commissioned with, drawn per device at the factory.

#include <cstdint>
#include <functional>

#include "common/bytes.h"
#include "common/error.h"

namespace imprint::matter {

inline constexpr uint32_t kMaxPasscode = 99999998;     // 27 bits hold it; 8 decimal digits
inline constexpr uint16_t kMaxDiscriminator = 0x0FFF;  // 12 bits

// True for 1..99999998 except the values the specification forbids: 00000000, 11111111,
// 22222222, ..., 99999999, 12345678 and 87654321.
bool IsValidPasscode(uint32_t passcode);

// Random bytes from a source the caller trusts (the HSM's generator at the CA); its errors pass
// through unchanged.
using RandomSource = std::function<Result<Bytes>(size_t count)>;

// A passcode drawn uniformly from the valid ones: 27 random bits, drawn again while they are
// not a valid passcode (about one draw in four). A source that gives a valid value in none of
// 64 draws is broken: INTERNAL, never a forbidden or biased value.
Result<uint32_t> DrawPasscode(const RandomSource& random);

// A discriminator drawn uniformly from 0..4095.
Result<uint16_t> DrawDiscriminator(const RandomSource& random);

}  // namespace imprint::matter
