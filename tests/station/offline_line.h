#pragma once
// OfflineLine: a CA, an enrolled station with its own token, an allowance granted and fetched,
// and simulated devices on the fixture: what the offline tests of the real imprint-station
// start from.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/offline/log_format.h"
#include "common/offline/signed_allowance.h"
#include "common/sqlite/database.h"
#include "common/x509/encoding.h"
#include "device_agent/harness.h"
#include "tests/station/offline_station.h"

namespace imprint::testing {

struct OfflineLine : OfflineStation {
  std::unique_ptr<agent::Harness> agents;
  std::filesystem::path devices = ca.dir() / "devices.txt";
  std::string allowance_id;

  // Enrolled, granted `count`, fetched, and `devices` agents on the fixture.
  OfflineLine(int count, int device_count, CaFixtureOptions ca_options = {})
      : OfflineStation(std::move(ca_options)) {
    std::string out;
    REQUIRE(Enroll(pin, &out) == 0);
    REQUIRE(Grant(count) == 0);
    REQUIRE(Fetch(&out) == 0);
    allowance_id = out.substr(out.find("allowance ") + 10, 32);
    agent::HarnessOptions options;
    options.count = device_count;
    options.store_root = (ca.dir() / "agents").string();
    options.ca_root_sha256 = x509::Sha256(
        x509::CertificateToDer(x509::ParseCertificatePem(ca.root_pem()).value().get()).value());
    agents = agent::Harness::Start(options).value();
    std::string list;
    for (const std::string& address : agents->addresses()) list += address + "\n";
    WriteFile(devices, list, 0644);
  }
  std::filesystem::path Kept() const { return dir / "offline" / allowance_id; }
  // Device directories that hold a committed certificate.
  std::vector<std::filesystem::path> Committed() const {
    std::vector<std::filesystem::path> out;
    for (const auto& entry : std::filesystem::directory_iterator(ca.dir() / "agents")) {
      if (std::filesystem::exists(entry.path() / "certificate.pem")) out.push_back(entry.path());
    }
    return out;
  }
  // The station's log as reconcile will read it, checked by VerifyLog.
  std::vector<offline::LogViolation> VerifyKeptLog(size_t* entries) const {
    auto root = x509::ParseCertificatePem(ca.root_pem()).value();
    auto allowance = offline::VerifySignedAllowance(
        ReadWholeFile((Kept() / "allowance.jws").string()).value(), root.get());
    REQUIRE(allowance.has_value());
    // subordinate.pem: the subordinate CA, then the root.
    auto sub =
        x509::ParseCertificatesPem(ReadWholeFile((Kept() / "subordinate.pem").string()).value());
    REQUIRE(sub.has_value());
    REQUIRE(sub->size() == 2);
    auto db = sql::SqliteDatabase::Open((Kept() / "log.db").string(), {}).value();
    std::vector<offline::LogEntry> log;
    auto rows = db->Prepare(
                      "SELECT seq, device, serial_hex, certificate_der, challenge, "
                      "issued_ms, hash FROM entries ORDER BY seq")
                    .value();
    while (rows.Step().value()) {
      log.push_back({rows.ColumnInt64(0), rows.ColumnText(1), rows.ColumnText(2),
                     rows.ColumnBlob(3), rows.ColumnBlob(4), rows.ColumnInt64(5),
                     rows.ColumnBlob(6)});
    }
    std::vector<offline::LogCheckpoint> checkpoints;
    auto signed_rows = db->Prepare("SELECT seq, hash, signature FROM checkpoints").value();
    while (signed_rows.Step().value()) {
      checkpoints.push_back(
          {signed_rows.ColumnInt64(0), signed_rows.ColumnBlob(1), signed_rows.ColumnBlob(2)});
    }
    *entries = log.size();
    return offline::VerifyLog(*allowance, sub->front().get(), log, checkpoints);
  }
};

// `imprint-station reconcile`. The CA may have restarted on another port: ask it where it
// listens now.
inline int Reconcile(const OfflineLine& line, std::string* out) {
  return line.Station("reconcile --state-dir " + line.dir.string() + " --ca " + line.ca.address(),
                      out);
}

// The CA also serves OCSP and the CRLs over HTTP.
inline CaFixtureOptions WithOcsp() {
  CaFixtureOptions options;
  options.status_toml = "http_listen = \"127.0.0.1:0\"\n";
  return options;
}

}  // namespace imprint::testing
