#pragma once
// HandoverLine: a CA with two stations and two orders made through the real RPCs, for the
// hand-over tests (files, manifest verification, forgeries).

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "ca/store/store.h"
#include "tests/ca/ca_test_util.h"
#include "tests/support/build_paths.h"
#include "tests/support/ca_fixture.h"

namespace imprint::testing {

// PO-1: v00..v11 verified (line-a, v10 and v11 from line-b), f1 failed, r1 verified then
// revoked; every device has a password. PO-2: o1, which no PO-1 file may mention.
struct HandoverLine {
  CaFixture ca;
  StationClient a = StationClient::Enroll(ca, "line-a");
  StationClient b = StationClient::Enroll(ca, "line-b");

  HandoverLine() {
    ca.CreateOrder("PO-1", 100, {"line-a", "line-b"});
    ca.CreateOrder("PO-2", 10, {"line-a"});
    for (int i = 0; i < 12; ++i) {
      char id[8];
      std::snprintf(id, sizeof(id), "v%02d", i);
      Make(i < 10 ? a : b, "PO-1", id, true);
    }
    Make(a, "PO-1", "f1", false);
    Make(a, "PO-1", "r1", true);
    Make(a, "PO-2", "o1", true);
    REQUIRE(Cli("revoke device --id r1 --reason key-compromise", nullptr) == 0);
  }

  static void Make(StationClient& station, const std::string& order, const std::string& id,
                   bool verified) {
    DeviceKey key = DeviceKey::Make();
    auto issued = CallIssue(station.stub(), order, id, key.csr_der);
    REQUIRE(issued.status.ok());
    imprint::v1::IssueDeviceSecretsResponse secrets;
    REQUIRE(CallSecrets(station.stub(), order, id, &secrets).ok());
    Bytes proof = verified ? DeviceProof(key.key.get(), issued.response.challenge()) : Bytes{};
    REQUIRE(
        CallReport(station.stub(), order, id, issued.response.serial_hex(), verified, proof).ok());
  }

  int Cli(const std::string& args, std::string* out) const { return RunCaCli(ca, args, out); }
  // The same without --config (manifest verify takes none).
  static int Tool(const std::string& args, std::string* out) {
    return RunCommand(CaBinary() + " " + args + " 2>&1", out);
  }
  std::string Path(const std::string& name) const { return (ca.dir() / name).string(); }
  std::string Root() const { return ca.config().RootPemPath(); }

  int Check(const std::string& kind, const std::string& dir, std::string* out) const {
    return RunCommand("/usr/bin/python3 " + SourceDir() + "/tests/ca/handover/check_handover.py " +
                          kind + " " + dir + " " + Root() + " 2>&1",
                      out);
  }

  int64_t Count(const std::string& query) const { return QueryInt(ca, query); }
  void Exec(const std::string& sql) const {
    auto db = ca::OpenCaDatabase(ca.config());
    REQUIRE(db.has_value());
    REQUIRE((*db)->Exec(sql).has_value());
  }
};

inline bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace imprint::testing
