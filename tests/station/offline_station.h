#pragma once
// OfflineStation: a CA in process and a station that works offline, run as the real
// imprint-station: enrolled with a token of its own (a second SoftHSM token in the CA's SoftHSM
// directory, made with softhsm2-util) for order PO-1.

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "tests/support/build_paths.h"
#include "tests/support/ca_fixture.h"
#include "tests/support/temp_dir.h"

namespace imprint::testing {

struct OfflineStation {
  CaFixture ca;
  std::filesystem::path dir = ca.dir() / "station";
  std::filesystem::path root = ca.dir() / "root.pem";
  std::filesystem::path pin = ca.dir() / "station-token.pin";
  std::string ca_address = ca.address();  // kept: the CA may be stopped

  explicit OfflineStation(CaFixtureOptions options = {}) : ca(std::move(options)) {
    std::string enrollment = ca.AddStation("cm-line-3");
    ca.CreateOrder("PO-1", 10, {"cm-line-3"});
    WriteFile(root, ca.root_pem(), 0644);
    WriteFile(ca.dir() / "enroll.token", enrollment, 0600);
    WriteFile(pin, "4321", 0600);
    std::string out;
    // The station's own token, in the same SoftHSM directory as the CA's (SOFTHSM2_CONF).
    if (RunCommand("softhsm2-util --init-token --free --label imprint-station --so-pin 87654321 "
                   "--pin 4321 2>&1",
                   &out) != 0) {
      FAIL("softhsm2-util: " << out);
    }
  }
  int Station(const std::string& args, std::string* out) const {
    return RunCommand(StationBinary() + " " + args + " 2>&1", out);
  }
  int Enroll(const std::filesystem::path& pin_file, std::string* out) const {
    return Station("enroll --ca " + ca_address + " --ca-root " + root.string() +
                       " --name cm-line-3 --token-file " + (ca.dir() / "enroll.token").string() +
                       " --state-dir " + dir.string() + " --token-module " + kSoftHsmModule +
                       " --token-uri pkcs11:token=imprint-station --token-pin-file " +
                       pin_file.string(),
                   out);
  }
  int Grant(int count, const std::string& valid_for = "72h") const {
    std::string out;
    return RunCommand(CaBinary() + " allowance grant --order PO-1 --station cm-line-3 --count " +
                          std::to_string(count) + " --valid-for " + valid_for + " --config " +
                          (ca.dir() / "ca.toml").string() + " 2>&1",
                      &out);
  }
  // `imprint-station provision` for order PO-1 with ARGS (devices, --offline, --parallel).
  int Provision(const std::string& args, std::string* out) const {
    return Station(
        "provision --state-dir " + dir.string() + " --ca " + ca_address + " --order PO-1 " + args,
        out);
  }
  int Fetch(std::string* out) const {
    return Station(
        "allowance fetch --state-dir " + dir.string() + " --ca " + ca_address + " --order PO-1",
        out);
  }
};

}  // namespace imprint::testing
