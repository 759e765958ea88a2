#pragma once
// Per-device secrets (EN 303 645 provisions 5.1-1/5.1-2): default passwords drawn from the
// HSM's random generator, never derived from serial numbers or MAC addresses, and the keyed
// verifier that is all the CA keeps of them.

#include <functional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/error.h"
#include "common/secret.h"

namespace imprint::ca {

// No 0/O, 1/l/I or i: the characters people misread on a label. 55 symbols, ~5.78 bits each.
inline constexpr std::string_view kPasswordAlphabet =
    "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";

using RandomSource = std::function<Result<Bytes>(size_t)>;

// A password of `length` symbols from kPasswordAlphabet. Uniform: random bytes at or above the
// largest multiple of the alphabet size are discarded (no modulo bias).
Result<Secret> DrawPassword(const RandomSource& random, int length);

// The message the verifier MACs: "imprint-secret-v1\0" || device_id || "\0" || name || "\0"
// || value. Binding the device and name stops a verifier from being moved to another device.
// It holds the secret, so it is a Secret.
Secret VerifierMessage(std::string_view device_id, std::string_view name, std::string_view value);

}  // namespace imprint::ca
