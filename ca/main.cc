// imprint-ca: parses the command line and runs; all logic lives in imprint_ca.
#include <exception>
#include <iostream>

#include "ca/cli.h"
#include "common/allocator.h"

int main(int argc, char** argv) {
  imprint::KeepFreedHeapMemory();
  try {
    return imprint::ca::RunCli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "imprint-ca: unexpected error: " << e.what() << "\n";
    return 1;
  }
}
