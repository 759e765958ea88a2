// imprint-station-crashing STEP [imprint-station options]: imprint-station that ends abruptly
// (as SIGKILL would, exit 137) right after STEP is journaled, so tests can kill a station at
// each step in turn.
// imprint-station-crashing wait:STEP:FILE [options]: instead, after STEP is first journaled,
// creates FILE and holds the station there until the test removes FILE, so a test can take a
// peer away at that point. Built for tests only; never installed.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "factory_station/cli.h"
#include "factory_station/journal.h"

namespace {

std::string g_crash_after;
std::string g_wait_after;
std::string g_wait_file;

void AtStep(const char* step) {
  if (g_crash_after == step) std::_Exit(137);
  if (g_wait_after == step) {
    g_wait_after.clear();  // once
    std::ofstream(g_wait_file) << "waiting\n";
    while (access(g_wait_file.c_str(), F_OK) == 0) usleep(20000);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: imprint-station-crashing STEP|wait:STEP:FILE [imprint-station options]\n";
    return 2;
  }
  std::string what = argv[1];
  if (what.starts_with("wait:") && what.find(':', 5) != std::string::npos) {
    size_t colon = what.find(':', 5);
    g_wait_after = what.substr(5, colon - 5);
    g_wait_file = what.substr(colon + 1);
  } else {
    g_crash_after = what;
  }
  imprint::station::SetStepObserver(AtStep);
  std::vector<char*> args{argv[0]};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  return imprint::station::RunCli(static_cast<int>(args.size()), args.data());
}
