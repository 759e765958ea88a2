// Offline provisioning through the real imprint-station (docs/offline.md): with the CA stopped,
// devices are issued within the station's allowance by its subordinate key, each logged before
// it leaves; past the count the line stops with exit code 3 and says why; what was issued
// verifies with openssl against the root, and the station's log verifies (VerifyLog) as
// reconcile will check it. Without --offline, an unreachable CA sends the line offline when an
// allowance exists, and is an error when none does.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "common/file_util.h"
#include "common/offline/log_format.h"
#include "common/sqlite/database.h"
#include "common/x509/encoding.h"
#include "device_agent/harness.h"
#include "tests/ca/ca_test_util.h"
#include "tests/station/offline_line.h"

namespace imprint::testing {
namespace {

TEST_CASE("with the CA stopped, a station issues within its allowance and stops at its count",
          "[offline]") {
  OfflineLine line(6, 8);
  line.ca.Stop();
  std::string out;
  int code = line.Provision("--offline --parallel 4 --devices-file " + line.devices.string(), &out);
  INFO(out);
  CHECK(code == 3);
  CHECK(out.find("offline: allowance " + line.allowance_id +
                 " for order PO-1, 6 of 6 "
                 "certificates left") != std::string::npos);
  CHECK(out.find("summary: 6 provisioned") != std::string::npos);
  CHECK(out.find("stopped: the allowance is used up: 6 of 6 certificates issued") !=
        std::string::npos);

  // Six devices hold a certificate that chains root -> subordinate -> device, and a password.
  auto committed = line.Committed();
  REQUIRE(committed.size() == 6);
  for (const auto& device : committed) {
    std::string verified;
    CHECK(RunCommand("openssl verify -x509_strict -purpose sslclient -CAfile " +
                         line.root.string() + " -untrusted " + (device / "chain.pem").string() +
                         " " + (device / "certificate.pem").string() + " 2>&1",
                     &verified) == 0);
    INFO(verified);
    auto secrets = nlohmann::json::parse(ReadWholeFile((device / "secrets.json").string()).value());
    CHECK(secrets.dump().find("default_password") != std::string::npos);
  }
  size_t entries = 0;
  auto violations = line.VerifyKeptLog(&entries);
  CHECK(entries == 6);
  for (const auto& v : violations) FAIL_CHECK(v.seq << ": " << v.reason);

  // Again: the six are already provisioned (proved against the log), the rest still refused,
  // and the log holds six.
  code = line.Provision("--offline --parallel 4 --devices-file " + line.devices.string(), &out);
  CHECK(code == 3);
  CHECK(out.find("6 already provisioned") != std::string::npos);
  CHECK(line.VerifyKeptLog(&entries).empty());
  CHECK(entries == 6);
}

TEST_CASE("without --offline, an unreachable CA sends the line offline only under an allowance",
          "[offline]") {
  OfflineLine line(5, 3);
  line.ca.Stop();
  std::string out;
  int code = line.Provision("--parallel 2 --devices-file " + line.devices.string(), &out);
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("offline: the CA cannot be reached") != std::string::npos);
  CHECK(out.find("summary: 3 provisioned") != std::string::npos);

  // Another order, which has no allowance: the unreachable CA is the error it always was.
  code = line.Station("provision --state-dir " + line.dir.string() + " --ca " + line.ca_address +
                          " --order PO-2 --devices-file " + line.devices.string(),
                      &out);
  CHECK(code == 1);
  CHECK(out.find("and no offline allowance: no allowance for order PO-2") != std::string::npos);
}

TEST_CASE(
    "a station killed after every step of an offline transaction loses no device and "
    "counts none twice",
    "[offline]") {
  const char* steps[] = {"identified", "csr",    "issued",    "secrets",
                         "installed",  "proved", "committed", "reported"};
  constexpr int kDevices = 8;
  OfflineLine line(kDevices, kDevices);
  line.ca.Stop();
  std::vector<std::string> addresses = line.agents->addresses();
  for (int i = 0; i < kDevices; ++i) {
    INFO("killed after " << steps[i]);
    std::filesystem::path one = line.ca.dir() / ("device-" + std::to_string(i) + ".txt");
    WriteFile(one, addresses[static_cast<size_t>(i)] + "\n", 0644);
    std::string out;
    std::string args = "provision --state-dir " + line.dir.string() + " --ca " + line.ca_address +
                       " --order PO-1 --offline --devices-file " + one.string();
    CHECK(RunCommand(StationCrashBinary() + " " + steps[i] + " " + args + " 2>&1", &out) == 137);
    int code = line.Provision("--offline --devices-file " + one.string(), &out);
    INFO(out);
    CHECK(code == 0);
    CHECK((out.find("summary: 1 provisioned") != std::string::npos ||
           out.find("1 already provisioned") != std::string::npos));
  }
  // Every device once in the log, the log whole, and nothing left to issue.
  size_t entries = 0;
  auto violations = line.VerifyKeptLog(&entries);
  CHECK(entries == kDevices);
  for (const auto& v : violations) FAIL_CHECK(v.seq << ": " << v.reason);
  CHECK(line.Committed().size() == kDevices);
  std::string out;
  CHECK(line.Provision("--offline --devices-file " + line.devices.string(), &out) == 0);
  CHECK(out.find(std::to_string(kDevices) + " already provisioned") != std::string::npos);
  line.ca.Restart();
  REQUIRE(line.Station("reconcile --state-dir " + line.dir.string() + " --ca " + line.ca.address(),
                       &out) == 0);
  CHECK(Order(line.ca, "PO-1").issued == kDevices);
  CHECK(Order(line.ca, "PO-1").verified == kDevices);
}

// The CA taken away while one device is held right after STEP (imprint-station-crashing
// wait:STEP:FILE), then the run let go on.
int LoseCaAfter(OfflineLine& line, const std::string& step, const std::string& device_address,
                std::string* out) {
  std::filesystem::path one = line.ca.dir() / (step + ".txt");
  std::filesystem::path flag = line.ca.dir() / (step + ".waiting");
  WriteFile(one, device_address + "\n", 0644);
  int code = -1;
  std::thread station([&] {
    code =
        RunCommand(StationCrashBinary() + " wait:" + step + ":" + flag.string() +
                       " provision --state-dir " + line.dir.string() + " --ca " +
                       line.ca.address() + " --order PO-1 --devices-file " + one.string() + " 2>&1",
                   out);
  });
  for (int i = 0; i < 1500 && !std::filesystem::exists(flag); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  bool reached = std::filesystem::exists(flag);
  line.ca.Stop();
  std::filesystem::remove(flag);
  station.join();
  line.ca.Restart();
  if (!reached) FAIL("the station never reached " << step << ": " << *out);
  return code;
}

TEST_CASE(
    "a station that loses the CA in the middle of a device finishes it offline, and the CA "
    "counts it once",
    "[offline]") {
  OfflineLine line(6, 3);
  std::vector<std::string> addresses = line.agents->addresses();
  // After the CSR: the CA never answered the issuance. After "issued": the CA's certificate
  // arrived, its secrets did not; the device is issued again under the allowance with the same
  // key, and reconcile supersedes the online certificate. After "committed": the device holds
  // the CA's certificate and the report waits for the CA.
  const char* steps[] = {"csr", "issued", "committed"};
  for (size_t i = 0; i < 3; ++i) {
    INFO("the CA lost after " << steps[i]);
    std::string out;
    int code = LoseCaAfter(line, steps[i], addresses[i], &out);
    INFO(out);
    CHECK(code == 0);
    CHECK(out.find("summary: 1 provisioned, 0 already provisioned, 0 failed") != std::string::npos);
    CHECK(out.find("offline: the CA was lost mid-run (") != std::string::npos);
    // The CA back, the run reconciled the one before it first.
    CHECK((out.find("reconcile before the line:\nallowance " + line.allowance_id + ": " +
                    std::to_string(i) + " logged, 1 recorded now") != std::string::npos) ==
          (i > 0));
  }
  auto agents = line.ca.dir() / "agents";
  auto first_of = [](const std::filesystem::path& pem) {
    auto chain = x509::ParseCertificatesPem(ReadWholeFile(pem.string()).value()).value();
    return x509::CertificateToDer(chain.front().get()).value();
  };
  Bytes subordinate = first_of(line.Kept() / "subordinate.pem");
  for (const char* id : {"SIM-00001", "SIM-00002", "SIM-00003"}) {
    INFO(id);
    std::string verified;
    CHECK(RunCommand("openssl verify -x509_strict -purpose sslclient -CAfile " +
                         line.root.string() + " -untrusted " +
                         (agents / id / "chain.pem").string() + " " +
                         (agents / id / "certificate.pem").string() + " 2>&1",
                     &verified) == 0);
    INFO(verified);
    // The first two were finished under the allowance, the third holds the CA's certificate.
    bool offline = std::string(id) != "SIM-00003";
    CHECK((first_of(agents / id / "chain.pem") == subordinate) == offline);
  }
  // The second and third runs found the CA back and reconciled the run before them first.
  std::string out;
  REQUIRE(Reconcile(line, &out) == 0);
  INFO(out);
  CHECK(out.find("reports that waited for the CA: 1 taken, 0 refused") != std::string::npos);
  CHECK(out.find("allowance " + line.allowance_id +
                 ": 2 logged, 0 recorded now, 2 reconciled (all)") != std::string::npos);
  ca::OrderStatus order = Order(line.ca, "PO-1");
  CHECK(order.issued == 3);
  CHECK(order.verified == 3);
  CHECK(order.reserved == 4);  // 6 granted, 2 used
  // The CA's certificate for SIM-00002 is superseded: revoked, kept in its history, audited.
  CHECK(QueryInt(line.ca,
                 "SELECT count(*) FROM revocations WHERE device_id = 'SIM-00002' AND "
                 "reason = 'superseded'") == 1);
  CHECK(QueryInt(line.ca, "SELECT count(*) FROM device_history WHERE device_id = 'SIM-00002'") ==
        1);
  CHECK(QueryInt(line.ca, "SELECT count(*) FROM audit_log WHERE event = 'device.superseded'") == 1);
  CHECK(QueryInt(line.ca, "SELECT count(*) FROM devices WHERE allowance_id IS NOT NULL") == 2);
  REQUIRE(RunCaCli(line.ca, "device show --id SIM-00002", &out) == 0);
  CHECK(out.find("superseded") != std::string::npos);
  REQUIRE(RunCaCli(line.ca, "audit verify", &out) == 0);
}

TEST_CASE("reconcile records each offline device once, as if issued online", "[offline]") {
  OfflineLine line(6, 4);
  line.ca.Stop();
  std::string out;
  REQUIRE(line.Provision("--offline --parallel 2 --devices-file " + line.devices.string(), &out) ==
          0);
  line.ca.Restart();
  int code = Reconcile(line, &out);
  INFO(out);
  CHECK(code == 0);
  CHECK(out ==
        "allowance " + line.allowance_id + ": 4 logged, 4 recorded now, 4 reconciled (all)\n");
  ca::OrderStatus order = Order(line.ca, "PO-1");
  CHECK(order.issued == 4);
  CHECK(order.verified == 4);
  CHECK(order.reserved == 2);  // the allowance's unused share stays reserved
  CHECK(QueryInt(line.ca,
                 "SELECT count(*) FROM devices WHERE status = 'verified' AND "
                 "station = 'cm-line-3'") == 4);
  CHECK(QueryInt(line.ca,
                 "SELECT count(*) FROM audit_log WHERE event = 'certificate.issued' AND "
                 "detail LIKE '%" +
                     line.allowance_id + "%'") == 4);

  // Each device's password reached the CA sealed, and the CA keeps the verifier it would have
  // made online; the station's log holds no password in plain text.
  std::string labels = ReadWholeFile((line.dir / "labels.jsonl").string()).value();
  std::string log_bytes = ReadWholeFile((line.Kept() / "log.db").string()).value();
  std::istringstream label_lines(labels);
  int checked = 0;
  for (std::string text; std::getline(label_lines, text);) {
    auto label = nlohmann::json::parse(text);
    std::string device = label["device_id"], password = label["default_password"];
    INFO(device);
    CHECK(StoredVerifier(line.ca, device) == ExpectedVerifier(line.ca, device, password));
    CHECK(log_bytes.find(password) == std::string::npos);
    ++checked;
  }
  CHECK(checked == 4);
  CHECK(QueryInt(line.ca,
                 "SELECT count(*) FROM audit_log WHERE event = 'secrets.issued' AND "
                 "detail LIKE '%" +
                     line.allowance_id + "%'") == 4);

  // Again: nothing new, nothing counted twice.
  REQUIRE(Reconcile(line, &out) == 0);
  CHECK(out.find("0 recorded now, 4 reconciled (all)") != std::string::npos);
  CHECK(Order(line.ca, "PO-1").issued == 4);
  REQUIRE(RunCaCli(line.ca, "allowance show --order PO-1", &out) == 0);
  CHECK(out.find("granted 6 used 4 outstanding 2") != std::string::npos);
  REQUIRE(RunCaCli(line.ca, "audit verify", &out) == 0);

  // The manifest lists the offline devices with their subordinate CA, and verifies.
  std::string manifest = (line.ca.dir() / "manifest").string();
  REQUIRE(RunCaCli(line.ca, "export --order PO-1 --format manifest --out " + manifest, &out) == 0);
  REQUIRE(RunCommand(CaBinary() + " manifest verify --root " + line.root.string() + " " + manifest +
                         "/manifest.json 2>&1",
                     &out) == 0);
  CHECK(out.find(" 4 entries verify ") != std::string::npos);
}

TEST_CASE("a station killed at each step of reconcile resumes and records every device once",
          "[offline]") {
  OfflineLine line(6, 4, WithOcsp());
  std::vector<std::string> addresses = line.agents->addresses();
  std::filesystem::path first = line.ca.dir() / "first.txt";
  std::filesystem::path second = line.ca.dir() / "second.txt";
  WriteFile(first, addresses[0] + "\n" + addresses[1] + "\n", 0644);
  WriteFile(second, addresses[2] + "\n" + addresses[3] + "\n", 0644);
  std::string out;
  // --offline issues with the subordinate key though the CA is up.
  REQUIRE(line.Provision("--offline --devices-file " + first.string(), &out) == 0);
  std::string reconcile = "reconcile --state-dir " + line.dir.string() + " --ca " + line.ca_address;
  auto crash_after = [&](const char* step) {
    INFO("killed after " << step);
    CHECK(RunCommand(StationCrashBinary() + " " + step + " " + reconcile + " 2>&1", &out) == 137);
  };
  crash_after("reconcile-sealed");
  CHECK(Order(line.ca, "PO-1").issued == 0);
  crash_after("reconcile-delegated");
  CHECK(Order(line.ca, "PO-1").issued == 0);
  CHECK(QueryInt(line.ca, "SELECT count(*) FROM allowances WHERE ocsp_delegate_der IS NOT NULL") ==
        1);
  crash_after("reconcile-part");
  CHECK(Order(line.ca, "PO-1").issued == 2);
  // More devices offline after a part was recorded, and a kill after their part too.
  REQUIRE(line.Provision("--offline --devices-file " + second.string(), &out) == 0);
  crash_after("reconcile-part");
  REQUIRE(line.Station(reconcile, &out) == 0);
  INFO(out);
  CHECK(out ==
        "allowance " + line.allowance_id + ": 4 logged, 0 recorded now, 4 reconciled (all)\n");
  ca::OrderStatus order = Order(line.ca, "PO-1");
  CHECK(order.issued == 4);
  CHECK(order.verified == 4);
  CHECK(order.reserved == 2);
  CHECK(QueryInt(line.ca, "SELECT count(*) FROM audit_log WHERE event = 'certificate.issued'") ==
        4);
  CHECK(QueryInt(line.ca,
                 "SELECT count(*) FROM audit_log WHERE event = 'allowance.ocsp_delegated'") == 1);
  REQUIRE(RunCaCli(line.ca, "audit verify", &out) == 0);
}

TEST_CASE("a station learns of a revoked allowance at its next contact and issues no more under it",
          "[offline]") {
  OfflineLine line(6, 4, WithOcsp());
  std::vector<std::string> addresses = line.agents->addresses();
  // OCSP about the subordinate certificate, asked of the root: the CA's responder key answers
  // with its certificate from the root.
  std::string subordinate = ReadWholeFile((line.Kept() / "subordinate.pem").string()).value();
  std::string end = "-----END CERTIFICATE-----\n";
  std::filesystem::path sub = line.ca.dir() / "sub.pem";
  WriteFile(sub, subordinate.substr(0, subordinate.find(end) + end.size()), 0644);
  auto sub_status = [&] {
    std::string answer;
    // Without a nonce, as RFC 5019 clients ask: the answer may come from the responder's cache.
    int code =
        RunCommand("openssl ocsp -no_nonce -issuer " + line.root.string() + " -cert " +
                       sub.string() + " -url http://" + line.ca.server().revocation_address() +
                       "/ocsp -CAfile " + line.root.string() + " 2>&1",
                   &answer);
    INFO(answer);
    CHECK(code == 0);
    CHECK(answer.find("Response verify OK") != std::string::npos);
    return answer;
  };
  CHECK(sub_status().find(sub.string() + ": good") != std::string::npos);
  auto one = [&](size_t i) {
    std::filesystem::path file = line.ca.dir() / ("device-" + std::to_string(i) + ".txt");
    WriteFile(file, addresses[i] + "\n", 0644);
    return file.string();
  };
  std::string out;
  REQUIRE(line.Provision("--offline --devices-file " + one(0), &out) == 0);
  REQUIRE(RunCommand(CaBinary() + " allowance revoke --order PO-1 --station cm-line-3 --reason " +
                         "'station sold' --config " + (line.ca.dir() / "ca.toml").string() +
                         " 2>&1",
                     &out) == 0);
  // Published at once.
  CHECK(sub_status().find(sub.string() + ": revoked") != std::string::npos);
  // Offline, the station cannot know yet.
  REQUIRE(line.Provision("--offline --devices-file " + one(1), &out) == 0);
  // Online, it learns (and provisions online as ever).
  int code = line.Provision("--devices-file " + one(2), &out);
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("allowance for order PO-1: revoked by the brand owner; nothing more is issued "
                 "under it offline") != std::string::npos);
  CHECK(std::filesystem::exists(line.Kept() / "revoked"));
  // From then on nothing is issued under it, and the log holds the two from before.
  code = line.Provision("--offline --devices-file " + one(3), &out);
  CHECK(code != 0);
  CHECK(out.find("allowance " + line.allowance_id +
                 " for order PO-1 was revoked by the brand owner: nothing more is issued under "
                 "it") != std::string::npos);
  size_t entries = 0;
  CHECK(line.VerifyKeptLog(&entries).empty());
  CHECK(entries == 2);
  // Reconcile says so, uploads nothing, and asking is no violation.
  CHECK(Reconcile(line, &out) == 4);
  CHECK(out.find("allowance " + line.allowance_id +
                 ": revoked by the brand owner; 2 logged, 0 reconciled before") !=
        std::string::npos);
  CHECK(QueryInt(line.ca, "SELECT count(*) FROM allowance_violations") == 0);
  CHECK(Order(line.ca, "PO-1").issued == 1);  // the online device
}

TEST_CASE("reconcile refuses a log edited at the station and records nothing of it", "[offline]") {
  OfflineLine line(6, 3);
  line.ca.Stop();
  std::string out;
  REQUIRE(line.Provision("--offline --devices-file " + line.devices.string(), &out) == 0);
  {
    auto db = sql::SqliteDatabase::Open((line.Kept() / "log.db").string(), {}).value();
    auto edit = db->Prepare("UPDATE entries SET issued_ms = issued_ms - 3600000 WHERE seq = 2");
    REQUIRE(edit.has_value());
    auto edited = edit->Run();
    INFO((edited ? std::string() : edited.error().ToString()));
    REQUIRE(edited.has_value());
  }
  line.ca.Restart();
  int code = Reconcile(line, &out);
  INFO(out);
  CHECK(code == 4);
  CHECK(out.find("violation: seq 2: the hash chain breaks here") != std::string::npos);
  CHECK(Order(line.ca, "PO-1").issued == 0);
  CHECK(QueryInt(line.ca, "SELECT count(*) FROM devices") == 0);
  CHECK(QueryInt(line.ca,
                 "SELECT count(*) FROM audit_log WHERE event = 'allowance.violation' "
                 "AND detail LIKE '%hash chain breaks%'") == 1);
  REQUIRE(RunCaCli(line.ca, "allowance show --order PO-1", &out) == 0);
  CHECK(out.find("used 0 outstanding 6") != std::string::npos);
  CHECK(out.find("violations 1") != std::string::npos);
}

TEST_CASE("reconcile refuses a device the registry already holds online", "[offline]") {
  OfflineLine line(6, 2);  // SIM-00001, SIM-00002
  std::string out;
  // Online first, while the CA is up: the registry holds both ids.
  REQUIRE(line.Provision("--devices-file " + line.devices.string(), &out) == 0);
  // Run again offline: they are this station's, provisioned online, and need nothing.
  line.ca.Stop();
  REQUIRE(line.Provision("--offline --devices-file " + line.devices.string(), &out) == 0);
  CHECK(out.find("2 already provisioned") != std::string::npos);
  line.ca.Restart();
  // A second fixture whose devices claim the same ids, provisioned offline.
  agent::HarnessOptions options;
  options.count = 2;
  options.store_root = (line.ca.dir() / "clones").string();
  options.ca_root_sha256 = x509::Sha256(
      x509::CertificateToDer(x509::ParseCertificatePem(line.ca.root_pem()).value().get()).value());
  auto clones = agent::Harness::Start(options).value();
  std::string list;
  for (const std::string& address : clones->addresses()) list += address + "\n";
  WriteFile(line.ca.dir() / "clones.txt", list, 0644);
  line.ca.Stop();
  REQUIRE(line.Provision("--offline --devices-file " + (line.ca.dir() / "clones.txt").string(),
                         &out) == 0);
  line.ca.Restart();
  CHECK(Reconcile(line, &out) == 4);
  INFO(out);
  CHECK(out.find(": device SIM-00001 is already SIM-00001 (order PO-1)") != std::string::npos);
  CHECK(out.find(": device SIM-00002 is already SIM-00002 (order PO-1)") != std::string::npos);
  CHECK(Order(line.ca, "PO-1").issued == 2);  // the online two only
}

}  // namespace
}  // namespace imprint::testing
