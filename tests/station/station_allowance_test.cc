// `imprint-station allowance fetch` through the real binaries: a station enrolled with a token
// of its own (a second SoftHSM token beside the CA's) makes its subordinate key there, gets it
// certified and keeps the allowance after checking it; openssl and python3-jwcrypto check what
// it kept. A wrong token PIN is refused before the enrollment token is spent; a new allowance
// after a revoked one gets a new key.

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "tests/ca/ca_test_util.h"
#include "tests/station/offline_station.h"

namespace imprint::testing {
namespace {

// "allowance ID...": the id from fetch's answer line.
std::string AllowanceId(const std::string& out) {
  size_t at = out.find("allowance ");
  return at == std::string::npos ? "" : out.substr(at + 10, 32);
}

TEST_CASE("a station makes its subordinate key in its own token and keeps a checked allowance",
          "[allowance]") {
  OfflineStation s;
  std::string out;
  // A wrong PIN for the station's token: enrollment stops before it spends its one-time token.
  WriteFile(s.ca.dir() / "wrong.pin", "9999", 0600);
  CHECK(s.Enroll(s.ca.dir() / "wrong.pin", &out) == 1);
  CHECK(out.find("PERMISSION_DENIED") != std::string::npos);
  CHECK(out.find("9999") == std::string::npos);
  REQUIRE(s.Enroll(s.pin, &out) == 0);

  CHECK(s.Fetch(&out) == 1);
  INFO(out);
  CHECK(out.find("NOT_FOUND: allowance fetch: station cm-line-3 holds no live allowance") !=
        std::string::npos);
  REQUIRE(RunCaCli(s.ca,
                   "allowance grant --order PO-1 --station cm-line-3 --count 5 --valid-for 72h",
                   &out) == 0);
  REQUIRE(s.Fetch(&out) == 0);
  INFO(out);
  CHECK(out.find(": order PO-1, 5 certificates until ") != std::string::npos);
  CHECK(out.find("for token key imprint-allowance-PO-1-") != std::string::npos);
  std::string id = AllowanceId(out);
  std::filesystem::path kept = s.dir / "offline" / id;
  CHECK(ReadWholeFile((s.dir / "offline" / "PO-1.current").string()).value_or("") == id);

  std::string verify = "openssl verify -x509_strict -CAfile " + s.root.string() + " " +
                       (kept / "subordinate.pem").string() + " 2>&1";
  REQUIRE(RunCommand(verify, &out) == 0);
  REQUIRE(RunCommand("/usr/bin/python3 " + SourceDir() + "/tests/ca/allowance/check_allowance.py " +
                         (kept / "allowance.jws").string() + " " +
                         (kept / "subordinate.pem").string() + " " + s.root.string() + " 2>&1",
                     &out) == 0);
  CHECK(out == "allowance " + id + " order PO-1 station cm-line-3 count 5\n");

  // Again: the same allowance and certificate, said so.
  std::string first_cert = ReadWholeFile((kept / "subordinate.pem").string()).value_or("");
  REQUIRE(s.Fetch(&out) == 0);
  CHECK(out.find(id + " (fetched before)") != std::string::npos);
  CHECK(ReadWholeFile((kept / "subordinate.pem").string()).value_or("") == first_cert);

  // Revoked and granted again: the CA never certifies the old key twice, so the station makes
  // a new one and keeps both allowances apart.
  std::string first_label = out.substr(out.find("token key ") + 10);
  REQUIRE(RunCaCli(s.ca, "allowance revoke --order PO-1 --station cm-line-3 --reason moved",
                   &out) == 0);
  REQUIRE(RunCaCli(s.ca,
                   "allowance grant --order PO-1 --station cm-line-3 --count 3 --valid-for 1h",
                   &out) == 0);
  REQUIRE(s.Fetch(&out) == 0);
  std::string second = AllowanceId(out);
  CHECK(second != id);
  CHECK(out.find(": order PO-1, 3 certificates until ") != std::string::npos);
  CHECK(out.substr(out.find("token key ") + 10) != first_label);
  CHECK(std::filesystem::exists(kept / "allowance.jws"));
  CHECK(ReadWholeFile((s.dir / "offline" / "PO-1.current").string()).value_or("") == second);
  CHECK(QueryInt(s.ca, "SELECT count(*) FROM audit_log WHERE event = 'allowance.fetched'") == 2);
}

TEST_CASE("a station without a token of its own cannot fetch, and says how to add one",
          "[allowance]") {
  OfflineStation s;
  std::string out;
  REQUIRE(s.Station("enroll --ca " + s.ca.address() + " --ca-root " + s.root.string() +
                        " --name cm-line-3 --token-file " + (s.ca.dir() / "enroll.token").string() +
                        " --state-dir " + s.dir.string(),
                    &out) == 0);
  REQUIRE(RunCaCli(s.ca,
                   "allowance grant --order PO-1 --station cm-line-3 --count 5 --valid-for 1h",
                   &out) == 0);
  CHECK(s.Fetch(&out) == 1);
  CHECK(out.find("this station has no token of its own for offline work") != std::string::npos);
  // Half a token configuration is refused by the command line.
  CHECK(s.Station("enroll --ca x --ca-root x --name x --token-file x --state-dir x "
                  "--token-module " +
                      std::string(kSoftHsmModule),
                  &out) != 0);
  REQUIRE(s.Station("token set --state-dir " + s.dir.string() + " --module " + kSoftHsmModule +
                        " --token-uri pkcs11:token=imprint-station --pin-file " + s.pin.string(),
                    &out) == 0);
  REQUIRE(s.Fetch(&out) == 0);
  CHECK(QueryInt(s.ca, "SELECT count(*) FROM allowances WHERE subordinate_der IS NOT NULL") == 1);
}

}  // namespace
}  // namespace imprint::testing
