#pragma once
// The one place that turns OpenSSL's per-thread error queue into an imprint Error.

#include <string_view>

#include "common/error.h"

namespace imprint::x509 {

// Drains this thread's OpenSSL error queue and returns an Error with `code` whose message is
// `what`, followed by the innermost OpenSSL reason when there is one. The queue is always left
// empty, so a stale error can never be blamed on a later call.
Error OpenSslError(Code code, std::string_view what);

// Discards whatever is on this thread's OpenSSL error queue.
void ClearOpenSslErrors();

}  // namespace imprint::x509
