// The audit log: verified by `imprint-ca audit verify`, by an independent Python verifier
// written from docs/audit-format.md, and broken by every kind of tampering.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ca/admin.h"
#include "common/sqlite/database.h"
#include "tests/ca/ca_test_util.h"
#include "tests/support/ca_fixture.h"

namespace imprint::testing {
namespace {

namespace fs = std::filesystem;

// A stopped CA with a few dozen records and several checkpoints (one every 5 records).
struct SealedCa {
  SealedCa() : ca(CaFixtureOptions{"P-256", 5}) {
    auto station = StationClient::Enroll(ca, "line-1");
    ca.CreateOrder("PO-1", 20, {"line-1"});
    for (int i = 0; i < 12; ++i) {
      REQUIRE(CallIssue(station.stub(), "PO-1", "dev-" + std::to_string(i),
                        DeviceKey::Make().csr_der)
                  .status.ok());
    }
    ca.Stop();
    db_path = ca.config().DatabasePath();
    fs::copy_file(db_path, db_path + ".pristine");
  }

  void Tamper(const std::string& sql) {
    fs::copy_file(db_path + ".pristine", db_path, fs::copy_options::overwrite_existing);
    auto db = sql::Database::Open(db_path);
    REQUIRE(db.has_value());
    REQUIRE((*db)->Exec(sql).has_value());
    REQUIRE(sqlite3_total_changes((*db)->handle()) > 0);  // the tampering really happened
  }

  std::string VerifyError() {
    auto result = ca::AuditVerify(ca.config());
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code() == Code::kDataLoss);
    return result.error().message();
  }

  CaFixture ca;
  std::string db_path;
};

std::string Export(const ca::CaConfig& config, const fs::path& path) {
  std::ostringstream out;
  REQUIRE(ca::AuditExport(config, out).has_value());
  WriteFile(path, out.str());
  return out.str();
}

TEST_CASE("a sealed audit log verifies here and with an independent verifier", "[audit]") {
  SealedCa s;
  auto summary = ca::AuditVerify(s.ca.config());
  REQUIRE(summary.has_value());
  CHECK(summary->records > 20);
  CHECK(summary->checkpoints >= summary->records / 5);
  CHECK(summary->last_sealed == summary->records);

  auto exported = s.ca.dir() / "audit.jsonl";
  std::string text = Export(s.ca.config(), exported);
  std::string out;
  int rc = RunCommand("/usr/bin/python3 " IMPRINT_SOURCE_DIR "/tests/ca/verify_audit_export.py " +
                          exported.string() + " " + s.ca.config().AuditKeyPemPath(),
                      &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("OK " + std::to_string(summary->records) + " records") != std::string::npos);

  // The same verifier rejects an export with one edited record, naming it.
  auto at = text.find("\"order\\\":\\\"PO-1\\\"");
  REQUIRE(at != std::string::npos);
  text.replace(at, 18, "\"order\\\":\\\"PO-2\\\"");
  WriteFile(exported, text);
  rc = RunCommand("/usr/bin/python3 " IMPRINT_SOURCE_DIR "/tests/ca/verify_audit_export.py " +
                      exported.string() + " " + s.ca.config().AuditKeyPemPath(),
                  &out);
  CHECK(rc == 1);
  CHECK(out.find("bad seq") != std::string::npos);
}

TEST_CASE("editing, deleting, reordering or truncating records is detected by seq", "[audit]") {
  SealedCa s;
  s.Tamper("UPDATE audit_log SET detail = replace(detail, 'dev-3', 'dev-X') WHERE seq = 13");
  CHECK(s.VerifyError().find("audit record 13: content does not match") != std::string::npos);

  s.Tamper("DELETE FROM audit_log WHERE seq = 12");
  CHECK(s.VerifyError().find("audit record 12:") != std::string::npos);

  s.Tamper("UPDATE audit_log SET seq = -1 WHERE seq = 9; UPDATE audit_log SET seq = 9 WHERE seq = 10;"
           " UPDATE audit_log SET seq = 10 WHERE seq = -1");
  CHECK(s.VerifyError().find("audit record 9:") != std::string::npos);

  s.Tamper("DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 2 FROM audit_log)");
  auto last = ca::AuditVerify(s.ca.config());
  REQUIRE_FALSE(last.has_value());
  CHECK(last.error().message().find("missing, but checkpoint") != std::string::npos);

  s.Tamper("UPDATE audit_checkpoints SET signature = zeroblob(70) WHERE seq = "
           "(SELECT min(seq) FROM audit_checkpoints WHERE seq >= 10)");
  CHECK(s.VerifyError().find("checkpoint signature does not verify") != std::string::npos);
}

TEST_CASE("imprint-ca audit verify exits non-zero and names the first bad record", "[audit]") {
  SealedCa s;
  std::string config = (s.ca.dir() / "ca.toml").string();
  std::string out;
  CHECK(RunCommand(std::string(IMPRINT_CA_BINARY) + " audit verify --config " + config, &out) == 0);
  CHECK(out.find("audit log OK") != std::string::npos);
  s.Tamper("UPDATE audit_log SET actor = 'admin' WHERE seq = 15");
  CHECK(RunCommand(std::string(IMPRINT_CA_BINARY) + " audit verify --config " + config, &out) == 1);
  CHECK(out.find("audit record 15") != std::string::npos);
}

}  // namespace
}  // namespace imprint::testing
