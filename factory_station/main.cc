// imprint-station: parses the command line and runs; all logic lives in imprint_station.
#include <exception>
#include <iostream>

#include "factory_station/cli.h"

int main(int argc, char** argv) {
  try {
    return imprint::station::RunCli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "imprint-station: unexpected error: " << e.what() << "\n";
    return 1;
  }
}
