#pragma once
// Keeping a process that holds secrets (an HSM PIN, session state, TLS keys) from writing them
// to disk when it crashes, and from being read by a same-user debugger.

#include "common/error.h"

namespace imprint {

// Sets RLIMIT_CORE to 0 (no core file) and PR_SET_DUMPABLE to 0 (no core dump, no ptrace
// attach and no /proc/PID/mem for other processes of the same user; see prctl(2)). UNAVAILABLE
// if either call fails. Call first thing in main of a program that handles secrets.
Status ForbidCoreDumps();

}  // namespace imprint
