#pragma once
// InParallel: one check per index, spread over the machine's hardware threads, for CPU work on
// a batch (reconcile's per-device signature checks). Small batches stay on the caller's thread.

#include <cstddef>
#include <functional>

#include "common/error.h"

namespace imprint {

// Runs `check(i)` for every i in [0, n), each exactly once, on up to the hardware threads (at
// most 8, and one per 16 indices). Returns the first error any check returned, once all ended.
// `check` must be safe to run concurrently for different indices.
Status InParallel(size_t n, const std::function<Status(size_t)>& check);

}  // namespace imprint
