#pragma once
// What the audit tests share: a stopped, sealed CA whose store can be put back to its
// pristine state and tampered with as an attacker with write access to the state directory or
// the database (but no PIN) would, and the CLI run the way an operator runs it. On SQLite or
// PostgreSQL (the "[postgres]" copies): the SQL of an attack is written for both.

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "ca/admin.h"
#include "ca/audit/commands.h"
#include "ca/store/store.h"
#include "common/audit/record.h"
#include "tests/ca/ca_test_util.h"
#include "tests/support/build_paths.h"
#include "tests/support/ca_fixture.h"
#include "tests/support/test_store.h"

namespace imprint::testing {

namespace fs = std::filesystem;

// SQL that appends one record after the last; its hashes are for Rechain to set.
inline const std::string kAppendRecord =
    "INSERT INTO audit_log (seq, time_ms, actor, event, detail, prev_hash, hash) "
    "SELECT seq + 1, 0, 'admin', 'order.closed', '{}', hash, hash FROM audit_log "
    "WHERE seq = (SELECT max(seq) FROM audit_log);";

// A stopped CA with a few dozen records and several checkpoints (one every 5 records).
struct SealedCa {
  explicit SealedCa(int devices = 12) : ca(Options()) {
    auto station = StationClient::Enroll(ca, "line-1");
    ca.CreateOrder("PO-1", 100, {"line-1"});
    for (int i = 0; i < devices; ++i) Issue(station, "dev-" + std::to_string(i));
    ca.Stop();
    store = TestStoreIsPostgres() ? ca.config().store_conninfo : ca.config().DatabasePath();
    Save("pristine");
  }

  // A named copy of the store, and putting it back (the CA must be stopped).
  void Save(const std::string& name) { SaveStoreCopy(store, name); }
  void Restore(const std::string& name) { RestoreStoreCopy(store, name); }

  static CaFixtureOptions Options() {
    CaFixtureOptions options;
    options.checkpoint_every = 5;
    return options;
  }

  static void Issue(StationClient& station, const std::string& device) {
    REQUIRE(CallIssue(station.stub(), "PO-1", device, DeviceKey::Make().csr_der).status.ok());
  }

  // Puts the pristine store back, then runs `sql` on it (and re-chains the records when
  // asked, as an attacker who knows the format would).
  void Tamper(const std::string& sql, bool rechain = false) {
    Restore("pristine");
    auto db = Open();
    std::string before = AuditTables(*db);
    REQUIRE(db->Exec(sql).has_value());
    REQUIRE(AuditTables(*db) != before);  // the tampering really happened
    if (rechain) Rechain(*db);
  }

  std::unique_ptr<sql::Database> Open() {
    auto db = ca::OpenCaDatabase(ca.config());
    REQUIRE(db.has_value());
    return std::move(*db);
  }

  // Everything in the audit tables and the orders, as text, to compare.
  static std::string AuditTables(sql::Database& db) {
    const std::pair<const char*, int> queries[] = {
        {"SELECT seq, time_ms, actor, event, detail, prev_hash, hash FROM audit_log ORDER BY seq",
         7},
        {"SELECT seq, time_ms, hash, prev_seq, prev_hash, signature FROM audit_checkpoints "
         "ORDER BY seq",
         6},
        {"SELECT id, status FROM orders ORDER BY id", 2}};
    std::string all;
    for (const auto& [query, columns] : queries) {
      auto select = db.Prepare(query);
      REQUIRE(select.has_value());
      while (select->Step().value()) {
        for (int col = 0; col < columns; ++col) all += select->ColumnText(col) + "|";
        all += "\n";
      }
    }
    return all;
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
    return RunCommand(
        CaBinary() + " " + args + " --config " + (ca.dir() / "ca.toml").string() + " 2>&1", out);
  }

  CaFixture ca;
  std::string store;  // the SQLite file or the PostgreSQL connection string
};

}  // namespace imprint::testing
