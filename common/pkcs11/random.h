#pragma once
// Random bytes from the token's generator (C_GenerateRandom).

#include "common/bytes.h"
#include "common/error.h"
#include "common/pkcs11/session_pool.h"

namespace imprint::p11 {

// `count` random bytes (at most 4096). UNAVAILABLE on token faults.
Result<Bytes> GenerateRandom(SessionPool& pool, size_t count);

}  // namespace imprint::p11
