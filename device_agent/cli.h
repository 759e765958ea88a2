#pragma once
// imprint-agent's command line.

namespace imprint::agent {

// Returns the exit code: 0 success, 1 failure, 2 usage error.
int RunCli(int argc, char** argv);

}  // namespace imprint::agent
