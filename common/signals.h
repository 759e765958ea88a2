#pragma once
// Running a server until SIGINT or SIGTERM, and the host part of a listen address.

#include <signal.h>

#include <string>

namespace imprint {

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards, so
// WaitForTermination can take them synchronously. Call before starting any thread.
sigset_t BlockTerminationSignals();
// Waits for one of the blocked signals; returns its number.
int WaitForTermination(const sigset_t& signals);

// "127.0.0.1" from "127.0.0.1:0"; the whole string when it has no port.
std::string ListenHost(const std::string& listen);

}  // namespace imprint
