#pragma once
// Where the build put what the tests run, and where the checkout is. These paths reach the
// tests through this one small file, not through the test sources' compile flags: a path in a
// -D flag differs per checkout, so ccache missed every test file that carried one in each fresh
// clone CI builds (about a dozen of the heaviest files, three times per CI run).

#include <string>

namespace imprint::testing {

const std::string& CaBinary();            // the imprint-ca executable
const std::string& StationBinary();       // the imprint-station executable
const std::string& StationCrashBinary();  // imprint-station-crashing (tests/support)
const std::string& FaultModule();         // the fault-injecting PKCS#11 module (tests/support)
const std::string& SourceDir();           // the checkout's top directory

}  // namespace imprint::testing
