#pragma once
// imprint-station's command line.

namespace imprint::station {

// Returns the exit code: 0 success, 1 failure (or any device failed), 2 usage error.
int RunCli(int argc, char** argv);

}  // namespace imprint::station
