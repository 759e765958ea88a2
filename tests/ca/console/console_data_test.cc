// The console's line page reads the store: a failure of the last minutes is shown however many
// other audit records (a flood of refusals) came after it (issue 26 finding 13).

#include <catch2/catch.hpp>

#include "ca/console/data.h"
#include "ca/store/schema.h"
#include "common/sql/migrations.h"
#include "common/sqlite/database.h"
#include "tests/support/temp_dir.h"

namespace imprint::ca {
namespace {

TEST_CASE("a device failure stays on the line page under a flood of newer records", "[console]") {
  testing::TempDir tmp;
  auto db = sql::SqliteDatabase::Open((tmp / "ca.db").string()).value();
  REQUIRE(sql::Migrate(*db, CaMigrations(db->backend())).has_value());
  int64_t now = 1'800'000'000'000;
  auto insert = [&](int64_t seq, const std::string& event, const std::string& detail) {
    auto stmt = db->Prepare(
        "INSERT INTO audit_log (seq, time_ms, actor, event, detail, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    REQUIRE(stmt.has_value());
    stmt->BindAll(seq, now - 60'000 + seq, "station:line-a", event, detail, Bytes{1}, Bytes{2});
    REQUIRE(stmt->Run().has_value());
  };
  REQUIRE(db->Exec("BEGIN").has_value());
  insert(1, "device.failed", R"({"device":"d1","order":"PO-1","detail":"no proof"})");
  for (int64_t seq = 2; seq <= 25'001; ++seq) {
    insert(seq, "console.denied", R"({"user":"victor","action":"close order"})");
  }
  REQUIRE(db->Exec("COMMIT").has_value());

  auto page = LineNow(*db, now);
  REQUIRE(page.has_value());
  REQUIRE((*page)["failures"].size() == 1);
  CHECK((*page)["failures"][0]["device"] == "d1");
  CHECK((*page)["failures"][0]["reason"] == "no proof");
}

}  // namespace
}  // namespace imprint::ca
