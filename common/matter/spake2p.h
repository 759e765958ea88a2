#pragma once
// The SPAKE2+ verifier a Matter device keeps instead of its passcode (Matter Core
// Specification 3.10, "Password-Based Key Derivation Function" and "Spake2+"), computed at the
// factory so the device never needs the passcode itself.

#include <cstdint>

#include "common/bytes.h"
#include "common/error.h"

namespace imprint::matter {

inline constexpr uint32_t kMinPbkdfIterations = 1000;
inline constexpr uint32_t kMaxPbkdfIterations = 100000;
inline constexpr size_t kMinSaltBytes = 16;
inline constexpr size_t kMaxSaltBytes = 32;
// w0 (32 bytes, big-endian) followed by L (an uncompressed P-256 point, 65 bytes).
inline constexpr size_t kVerifierBytes = 97;

// PBKDF2-HMAC-SHA256 of the passcode (4 bytes, little-endian) with `salt` and `iterations`
// gives 80 bytes w0s || w1s; w0 = w0s mod n, w1 = w1s mod n (n: the P-256 group order) and
// L = w1 * G. Returns w0 || L. INVALID_ARGUMENT for a passcode, salt or iteration count outside
// the specification's ranges.
Result<Bytes> ComputeVerifier(uint32_t passcode, ByteView salt, uint32_t iterations);

}  // namespace imprint::matter
