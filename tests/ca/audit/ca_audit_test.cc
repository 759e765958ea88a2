// The audit log's chains: records and checkpoints, verified by `imprint-ca audit verify`, by
// the same command over an export, and by an independent Python verifier written from
// docs/audit-format.md; broken by every kind of tampering an attacker without the PIN can do.

#include <catch2/catch.hpp>
#include <sstream>

#include "common/x509/evp_signer.h"
#include "tests/ca/audit/audit_tamper.h"
#include "tests/support/build_paths.h"

namespace imprint::testing {
namespace {

std::string Export(const ca::CaConfig& config, const fs::path& path) {
  std::ostringstream out;
  REQUIRE(ca::AuditExport(config, out).has_value());
  WriteFile(path, out.str());
  return out.str();
}

int PythonVerify(const std::string& args, std::string* out) {
  return RunCommand(
      "/usr/bin/python3 " + SourceDir() + "/tests/ca/audit/verify_audit_export.py " + args, out);
}

TEST_CASE("a sealed audit log verifies here, over its export and with an independent verifier",
          "[audit]") {
  SealedCa s;
  auto summary = ca::AuditVerify(s.ca.config());
  REQUIRE(summary.has_value());
  CHECK(summary->records > 20);
  CHECK(summary->checkpoints >= summary->records / 5);
  CHECK(summary->last_sealed == summary->records);
  CHECK(summary->unsealed == 0);
  CHECK(summary->anchor == summary->records);

  auto exported = s.ca.dir() / "audit.jsonl";
  auto anchor = s.ca.dir() / "anchor.json";
  std::string key = s.ca.config().AuditKeyPemPath();
  std::string text = Export(s.ca.config(), exported);
  std::string out;
  REQUIRE(s.Cli("audit anchor export --out " + anchor.string(), &out) == 0);
  int rc = PythonVerify(exported.string() + " " + key + " " + anchor.string(), &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("OK " + std::to_string(summary->records) + " records") != std::string::npos);
  CHECK(RunCommand(CaBinary() + " audit verify --export " + exported.string() + " --key " + key +
                       " --anchor " + anchor.string(),
                   &out) == 0);
  CHECK(out.find("audit log OK") != std::string::npos);

  // Both reject an export with one edited record, naming it.
  auto at = text.find("\"order\\\":\\\"PO-1\\\"");
  REQUIRE(at != std::string::npos);
  text.replace(at, 18, "\"order\\\":\\\"PO-2\\\"");
  WriteFile(exported, text);
  CHECK(PythonVerify(exported.string() + " " + key, &out) == 1);
  CHECK(out.find("bad seq") != std::string::npos);
  CHECK(RunCommand(
            CaBinary() + " audit verify --export " + exported.string() + " --key " + key + " 2>&1",
            &out) == 3);
  CHECK(out.find("content does not match its hash") != std::string::npos);
}

TEST_CASE("editing, deleting, reordering or truncating records is detected by seq", "[audit]") {
  SealedCa s;
  s.Tamper(
      "UPDATE audit_log SET detail = replace(detail, 'dev-3', 'dev-X') WHERE seq = "
      "(SELECT seq FROM audit_log WHERE detail LIKE '%\"dev-3\"%')");
  int64_t dev3 = s.Count("SELECT seq FROM audit_log WHERE detail LIKE '%\"dev-X\"%'");
  CHECK(s.VerifyError().find("audit record " + std::to_string(dev3) + ": content does not match") !=
        std::string::npos);

  s.Tamper("DELETE FROM audit_log WHERE seq = 12");
  CHECK(s.VerifyError().find("audit record 12:") != std::string::npos);

  s.Tamper(
      "UPDATE audit_log SET seq = -1 WHERE seq = 9; UPDATE audit_log SET seq = 9 WHERE seq = 10;"
      " UPDATE audit_log SET seq = 10 WHERE seq = -1");
  CHECK(s.VerifyError().find("audit record 9:") != std::string::npos);

  s.Tamper("DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 2 FROM audit_log)");
  CHECK(s.VerifyError().find("missing, but checkpoint") != std::string::npos);
}

TEST_CASE("a log that does not start with a sealed genesis record is invalid", "[audit]") {
  SealedCa s;
  s.Tamper("UPDATE audit_log SET event = 'ca.init' WHERE seq = 1", true);
  CHECK(s.VerifyError().find("audit record 1: the log does not start with a genesis record") !=
        std::string::npos);

  s.Tamper("DELETE FROM audit_checkpoints WHERE seq = 1");
  CHECK(s.VerifyError().find("audit record 1: genesis record is not sealed") != std::string::npos);
}

TEST_CASE("checkpoints form a chain: a deleted, swapped, re-timed or foreign one is named",
          "[audit]") {
  SealedCa s;
  // The checkpoints, in order; tamper with the ones in the middle.
  int64_t count = s.Count("SELECT count(*) FROM audit_checkpoints");
  REQUIRE(count >= 6);
  auto nth = [&](int n) {
    return s.Count("SELECT seq FROM audit_checkpoints ORDER BY seq LIMIT 1 OFFSET " +
                   std::to_string(n));
  };
  int64_t third = nth(2), fourth = nth(3);

  s.Tamper("DELETE FROM audit_checkpoints WHERE seq = " + std::to_string(third));
  CHECK(s.VerifyError().find("audit record " + std::to_string(fourth) +
                             ": checkpoint chain broken") != std::string::npos);

  s.Tamper("UPDATE audit_checkpoints SET seq = -1 WHERE seq = " + std::to_string(third) +
           "; UPDATE audit_checkpoints SET seq = " + std::to_string(third) +
           " WHERE seq = " + std::to_string(fourth) +
           "; UPDATE audit_checkpoints SET seq = " + std::to_string(fourth) + " WHERE seq = -1");
  CHECK(s.VerifyError().find("audit record " + std::to_string(third) + ": checkpoint") !=
        std::string::npos);

  s.Tamper("UPDATE audit_checkpoints SET time_ms = time_ms + 1000 WHERE seq = " +
           std::to_string(third));
  CHECK(s.VerifyError().find("audit record " + std::to_string(third) +
                             ": checkpoint signature does not verify") != std::string::npos);

  // A signature by another key (another token's audit key) over the genuine message.
  s.Restore("pristine");
  {
    auto db = s.Open();
    auto row = db->Prepare(
        "SELECT seq, time_ms, hash, prev_seq, prev_hash FROM audit_checkpoints "
        "WHERE seq = ?");
    REQUIRE(row.has_value());
    row->BindAll(third);
    REQUIRE(row->Step().value());
    audit::Checkpoint c{
        static_cast<uint64_t>(row->ColumnInt64(0)), row->ColumnInt64(1), row->ColumnBlob(2),
        static_cast<uint64_t>(row->ColumnInt64(3)), row->ColumnBlob(4),  {}};
    auto other = x509::EvpSigner::Create(x509::GenerateKey("P-256").value()).value();
    Bytes foreign = other->Sign(audit::CheckpointMessage(c)).value();
    auto update = db->Prepare("UPDATE audit_checkpoints SET signature = ? WHERE seq = ?");
    REQUIRE(update.has_value());
    update->BindAll(foreign, third);
    REQUIRE(update->Run().has_value());
  }
  CHECK(s.VerifyError().find("audit record " + std::to_string(third) +
                             ": checkpoint signature does not verify") != std::string::npos);
}

TEST_CASE("more records past the last checkpoint than the CA leaves unsealed are refused",
          "[audit]") {
  SealedCa s;
  // Records appended with a consistent hash chain but no checkpoint (no PIN, no signature).
  auto append = [&](int n) {
    std::string sql;
    for (int i = 0; i < n; ++i) {
      sql += kAppendRecord;
    }
    s.Tamper(sql, true);
  };
  append(5);  // checkpoint_every is 5: a committed batch leaves at most 4 unsealed
  CHECK(s.VerifyError().find("5 records follow the last checkpoint, more than the CA leaves "
                             "unsealed (4)") != std::string::npos);
  std::string out;
  CHECK(s.Cli("order close --id PO-1", &out) == 3);
  CHECK(s.Count("SELECT count(*) FROM orders WHERE id = 'PO-1' AND status = 'open'") == 1);

  // Fewer than that is what a crash leaves: reported as unsealed, and sealed by the next start
  // after it has verified them (which is also all that such an append can get past).
  append(2);
  auto summary = ca::AuditVerify(s.ca.config());
  REQUIRE(summary.has_value());
  CHECK(summary->unsealed == 2);
  CHECK(s.Cli("audit verify", &out) == 0);
  CHECK(out.find("unsealed tail") != std::string::npos);
  s.ca.Restart();
  s.ca.Stop();
  summary = ca::AuditVerify(s.ca.config());
  REQUIRE(summary.has_value());
  CHECK(summary->unsealed == 0);
}

}  // namespace
}  // namespace imprint::testing
