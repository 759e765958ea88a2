// imprint-agent: parses the command line and runs; all logic lives in imprint_agent.
#include <exception>
#include <iostream>

#include "device_agent/cli.h"

int main(int argc, char** argv) {
  try {
    return imprint::agent::RunCli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "imprint-agent: unexpected error: " << e.what() << "\n";
    return 1;
  }
}
