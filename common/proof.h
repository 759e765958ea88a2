#pragma once
// The ProveIdentity message (docs/agent-protocol.md): a fixed context string and the
// station's nonce, so a device's proof signature cannot be replayed as anything else.

#include "common/bytes.h"

namespace imprint {

inline constexpr size_t kMinNonceBytes = 16;
inline constexpr size_t kMaxNonceBytes = 64;

// "imprint-prove-identity-v1\0" || nonce
Bytes ProofMessage(ByteView nonce);

}  // namespace imprint
