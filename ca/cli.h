#pragma once
// imprint-ca's command line: parses arguments and dispatches to the admin commands or serve.

namespace imprint::ca {

// Returns the process exit code: 0 success, 1 failure (message on stderr), 2 usage error.
int RunCli(int argc, char** argv);

}  // namespace imprint::ca
