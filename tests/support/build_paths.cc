#include "tests/support/build_paths.h"

namespace imprint::testing {

const std::string& CaBinary() {
  static const std::string path = IMPRINT_CA_BINARY;
  return path;
}

const std::string& StationBinary() {
  static const std::string path = IMPRINT_STATION_BINARY;
  return path;
}

const std::string& StationCrashBinary() {
  static const std::string path = IMPRINT_STATION_CRASH_BINARY;
  return path;
}

const std::string& FaultModule() {
  static const std::string path = IMPRINT_FAULT_MODULE;
  return path;
}

const std::string& SourceDir() {
  static const std::string path = IMPRINT_SOURCE_DIR;
  return path;
}

}  // namespace imprint::testing
