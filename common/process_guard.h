#pragma once
// Keeping a process that holds secrets (an HSM PIN, session state, TLS keys) from writing them
// to disk when it crashes, and from being read by a same-user debugger.

#include "common/error.h"

namespace imprint {

// Sets RLIMIT_CORE to 0 (no core file) and PR_SET_DUMPABLE to 0 (no core dump, no ptrace
// attach and no /proc/PID/mem for other processes of the same user; see prctl(2)). UNAVAILABLE
// if either call fails. Call first thing in main of a program that handles secrets.
Status ForbidCoreDumps();

// Raises the open-file soft limit to the hard limit (a server's connections are file
// descriptors; a shell's common `ulimit -Sn 1024` is far below what the kernel allows).
// Returns the soft limit now in force.
Result<uint64_t> RaiseOpenFileLimit();

}  // namespace imprint
