// imprint-station-crashing STEP [imprint-station options]: imprint-station that ends abruptly
// (as SIGKILL would, exit 137) right after STEP is journaled, so tests can kill a station at
// each step in turn. Built for tests only; never installed.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "factory_station/cli.h"
#include "factory_station/journal.h"

namespace {

std::string g_crash_after;

void CrashAfter(const char* step) {
  if (g_crash_after == step) std::_Exit(137);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: imprint-station-crashing STEP [imprint-station options]\n";
    return 2;
  }
  g_crash_after = argv[1];
  imprint::station::SetStepObserver(CrashAfter);
  std::vector<char*> args{argv[0]};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  return imprint::station::RunCli(static_cast<int>(args.size()), args.data());
}
