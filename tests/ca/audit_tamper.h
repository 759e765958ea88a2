#pragma once
// What the audit tests share: a stopped, sealed CA whose database can be put back to its
// pristine state and tampered with as an attacker with write access to the state directory
// (but no PIN) would, and the CLI run the way an operator runs it.

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "ca/admin.h"
#include "common/audit/record.h"
#include "common/sqlite/database.h"
#include "tests/ca/ca_test_util.h"
#include "tests/support/ca_fixture.h"

namespace imprint::testing {

namespace fs = std::filesystem;

// A stopped CA with a few dozen records and several checkpoints (one every 5 records).
struct SealedCa {
  explicit SealedCa(int devices = 12) : ca(CaFixtureOptions{"P-256", 5}) {
    auto station = StationClient::Enroll(ca, "line-1");
    ca.CreateOrder("PO-1", 100, {"line-1"});
    for (int i = 0; i < devices; ++i) Issue(station, "dev-" + std::to_string(i));
    ca.Stop();
    db_path = ca.config().DatabasePath();
    fs::copy_file(db_path, db_path + ".pristine");
  }

  static void Issue(StationClient& station, const std::string& device) {
    REQUIRE(CallIssue(station.stub(), "PO-1", device, DeviceKey::Make().csr_der).status.ok());
  }

  // Puts the pristine database back, then runs `sql` on it (and re-chains the records when
  // asked, as an attacker who knows the format would).
  void Tamper(const std::string& sql, bool rechain = false) {
    fs::copy_file(db_path + ".pristine", db_path, fs::copy_options::overwrite_existing);
    auto db = Open();
    REQUIRE((*db).Exec(sql).has_value());
    REQUIRE(sqlite3_total_changes(db->handle()) > 0);  // the tampering really happened
    if (rechain) Rechain(*db);
  }

  std::unique_ptr<sql::SqliteDatabase> Open() {
    auto db = sql::SqliteDatabase::Open(db_path);
    REQUIRE(db.has_value());
    return std::move(*db);
  }

  // Recomputes every record's prev_hash and hash, so the hash chain alone is consistent.
  static void Rechain(sql::Database& db) {
    auto select =
        db.Prepare("SELECT seq, time_ms, actor, event, detail FROM audit_log ORDER BY seq");
    REQUIRE(select.has_value());
    Bytes prev = audit::GenesisHash();
    std::vector<audit::Record> records;
    while (select->Step().value()) {
      audit::Record r{static_cast<uint64_t>(select->ColumnInt64(0)),
                      select->ColumnInt64(1),
                      select->ColumnText(2),
                      select->ColumnText(3),
                      select->ColumnText(4),
                      prev,
                      {}};
      r.hash = audit::RecordHash(r);
      prev = r.hash;
      records.push_back(r);
    }
    for (const auto& r : records) {
      auto update = db.Prepare("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?");
      REQUIRE(update.has_value());
      update->BindAll(r.prev_hash, r.hash, static_cast<int64_t>(r.seq));
      REQUIRE(update->Run().has_value());
    }
  }

  int64_t Count(const std::string& query) {
    auto db = Open();
    auto stmt = db->Prepare(query);
    REQUIRE(stmt.has_value());
    REQUIRE(stmt->Step().value());
    return stmt->ColumnInt64(0);
  }

  std::string VerifyError() {
    auto result = ca::AuditVerify(ca.config());
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code() == Code::kDataLoss);
    return result.error().message();
  }

  // Runs `imprint-ca ARGS --config CA.toml`; returns the exit code, output in `out`.
  int Cli(const std::string& args, std::string* out) const {
    return RunCommand(std::string(IMPRINT_CA_BINARY) + " " + args + " --config " +
                          (ca.dir() / "ca.toml").string() + " 2>&1",
                      out);
  }

  CaFixture ca;
  std::string db_path;
};

}  // namespace imprint::testing
