#pragma once
// Default passwords drawn from a token's random generator (EN 303 645 provision 5.1-1: unique
// per device, never derived from serial numbers or MAC addresses): by the CA online, and by a
// station's own token offline (docs/offline.md).

#include <functional>
#include <string_view>

#include "common/bytes.h"
#include "common/error.h"
#include "common/secret.h"

namespace imprint {

// No 0/O, 1/l/I or i: the characters people misread on a label. 55 symbols, ~5.78 bits each.
inline constexpr std::string_view kPasswordAlphabet =
    "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";

using RandomSource = std::function<Result<Bytes>(size_t)>;

// A password of `length` symbols from kPasswordAlphabet. Uniform: random bytes at or above the
// largest multiple of the alphabet size are discarded (no modulo bias).
Result<Secret> DrawPassword(const RandomSource& random, int length);

}  // namespace imprint
