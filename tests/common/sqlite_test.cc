#include <catch2/catch.hpp>
#include <filesystem>

#include "common/sql/migrations.h"
#include "common/sql/transaction.h"
#include "common/sqlite/checkpointer.h"
#include "common/sqlite/database.h"
#include "tests/support/temp_dir.h"

namespace imprint::sql {
namespace {

constexpr Migration kMigrations[] = {
    {1, "CREATE TABLE orders (id TEXT PRIMARY KEY, quota INTEGER NOT NULL);"},
    {2,
     "CREATE TABLE certs (serial BLOB PRIMARY KEY, order_id TEXT NOT NULL "
     "REFERENCES orders(id));"},
};

std::unique_ptr<Database> OpenMigrated(const std::string& path) {
  auto db = SqliteDatabase::Open(path);
  REQUIRE(db.has_value());
  REQUIRE(Migrate(**db, kMigrations).has_value());
  return std::move(*db);
}

int64_t Count(Database& db, const char* table) {
  auto stmt = db.Prepare(std::string("SELECT count(*) FROM ") + table);
  REQUIRE(stmt.has_value());
  REQUIRE(stmt->Step().value());
  return stmt->ColumnInt64(0);
}

TEST_CASE("a file database opens in WAL mode with foreign keys on", "[sqlite]") {
  testing::TempDir dir;
  auto db = OpenMigrated((dir / "state.db").string());
  auto mode = db->Prepare("PRAGMA journal_mode");
  REQUIRE(mode->Step().value());
  CHECK(mode->ColumnText(0) == "wal");
  auto insert = db->Prepare("INSERT INTO certs (serial, order_id) VALUES (?, ?)");
  insert->BindAll(Bytes{1, 2}, "no-such-order");
  auto status = insert->Run();
  REQUIRE_FALSE(status.has_value());
  CHECK(status.error().code() == Code::kFailedPrecondition);  // the referenced order is missing
}

TEST_CASE("constraint failures map by what the constraint says", "[sqlite]") {
  auto db = OpenMigrated(":memory:");
  REQUIRE(db->Exec("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0), "
                   "u TEXT UNIQUE)")
              .has_value());
  REQUIRE(db->Prepare("INSERT INTO t VALUES ('a', 1, 'x')")->Run().has_value());
  auto code = [&](const char* sql) {
    auto status = db->Prepare(sql)->Run();
    REQUIRE_FALSE(status.has_value());
    return status.error().code();
  };
  CHECK(code("INSERT INTO t VALUES ('a', 2, 'y')") == Code::kAlreadyExists);  // primary key
  CHECK(code("INSERT INTO t VALUES ('b', 2, 'x')") == Code::kAlreadyExists);  // unique
  CHECK(code("INSERT INTO t VALUES ('c', -1, 'z')") == Code::kInternal);      // check
  CHECK(code("INSERT INTO t VALUES ('d', NULL, 'w')") == Code::kInternal);    // not null
}

TEST_CASE("bound parameters store hostile text verbatim", "[sqlite]") {
  auto db = OpenMigrated(":memory:");
  std::string hostile = "PO-1'); DROP TABLE orders; --";
  REQUIRE(db->Prepare("INSERT INTO orders VALUES (?, ?)")->BindAll(hostile, 5).Run());
  auto select = db->Prepare("SELECT id, quota FROM orders");
  REQUIRE(select->Step().value());
  CHECK(select->ColumnText(0) == hostile);
  CHECK(select->ColumnInt64(1) == 5);
  CHECK(Count(*db, "orders") == 1);
}

TEST_CASE("a transaction rolls back unless committed", "[sqlite]") {
  auto db = OpenMigrated(":memory:");
  {
    auto txn = Transaction::Begin(*db);
    REQUIRE(txn.has_value());
    REQUIRE(db->Prepare("INSERT INTO orders VALUES ('a', 1)")->Run());
  }
  CHECK(Count(*db, "orders") == 0);
  {
    auto txn = Transaction::Begin(*db);
    REQUIRE(db->Prepare("INSERT INTO orders VALUES ('b', 1)")->Run());
    REQUIRE(txn->Commit().has_value());
    CHECK_FALSE(txn->Commit().has_value());
  }
  CHECK(Count(*db, "orders") == 1);
}

TEST_CASE("committed data survives reopening the file", "[sqlite]") {
  testing::TempDir dir;
  auto path = (dir / "state.db").string();
  {
    auto db = OpenMigrated(path);
    REQUIRE(db->Prepare("INSERT INTO orders VALUES ('PO-1', 10)")->Run());
  }
  auto db = OpenMigrated(path);
  CHECK(Count(*db, "orders") == 1);
  CHECK(db->SchemaVersion().value() == 2);
}

TEST_CASE("migrations apply once, in order, and refuse a newer schema", "[sqlite]") {
  auto db = OpenMigrated(":memory:");
  REQUIRE(Migrate(*db, kMigrations).has_value());  // idempotent
  CHECK(db->SchemaVersion().value() == 2);
  auto older = Migrate(*db, std::span(kMigrations).first(1));
  REQUIRE_FALSE(older.has_value());
  CHECK(older.error().code() == Code::kFailedPrecondition);
  constexpr Migration kGap[] = {{1, "SELECT 1"}, {3, "SELECT 1"}};
  auto fresh = SqliteDatabase::Open(":memory:");
  CHECK(Migrate(**fresh, kGap).error().code() == Code::kInvalidArgument);
}

TEST_CASE("a failing migration leaves the schema version unchanged", "[sqlite]") {
  constexpr Migration kBroken[] = {{1, "CREATE TABLE t (x INTEGER);"},
                                   {2, "CREATE TABLE t (x INTEGER);"}};  // duplicate table
  auto db = SqliteDatabase::Open(":memory:");
  REQUIRE_FALSE(Migrate(**db, kBroken).has_value());
  CHECK((*db)->SchemaVersion().value() == 1);
}

TEST_CASE("empty blobs stay blobs and NULL stays NULL", "[sqlite]") {
  auto db = SqliteDatabase::Open(":memory:");
  REQUIRE((*db)->Exec("CREATE TABLE b (v BLOB)"));
  REQUIRE((*db)->Prepare("INSERT INTO b VALUES (?)")->BindAll(Bytes{}).Run());
  REQUIRE((*db)->Prepare("INSERT INTO b VALUES (?)")->BindAll(nullptr).Run());
  auto select = (*db)->Prepare("SELECT v IS NULL, length(v) FROM b ORDER BY rowid");
  REQUIRE(select->Step().value());
  CHECK(select->ColumnInt64(0) == 0);
  CHECK(select->ColumnInt64(1) == 0);
  REQUIRE(select->Step().value());
  CHECK(select->ColumnInt64(0) == 1);
}

// A committing connection as the CA's writer opens it (auto-checkpoint off) on a fresh
// database with one table of page-sized rows.
std::unique_ptr<Database> OpenBlobWriter(const std::string& path) {
  DatabaseOptions options;
  options.auto_checkpoint = false;
  auto db = SqliteDatabase::Open(path, options);
  REQUIRE(db.has_value());
  REQUIRE((*db)->Exec("CREATE TABLE blobs (b BLOB)").has_value());
  return std::move(*db);
}

// `rows` commits of one row each, about one WAL frame per commit.
void InsertBlobs(Database& db, int rows) {
  for (int i = 0; i < rows; ++i) {
    REQUIRE(db.Run("INSERT INTO blobs VALUES (zeroblob(4000))").has_value());
  }
}

TEST_CASE("with auto-checkpoint off only the checkpointer moves the WAL into the file",
          "[sqlite]") {
  testing::TempDir dir;
  std::string path = (dir / "wal.db").string();
  auto db = OpenBlobWriter(path);
  // 1,500 pages: past SQLite's default threshold of 1,000, so a default connection would
  // already have checkpointed inside one of these commits.
  InsertBlobs(*db, 1500);
  auto file_bytes = [&] { return std::filesystem::file_size(path); };
  CHECK(file_bytes() < 64 * 1024);
  auto checkpointer = Checkpointer::Start(path);
  REQUIRE(checkpointer.has_value());
  auto wal = (*checkpointer)->CheckpointNow();
  REQUIRE(wal.has_value());
  CHECK(wal->left == 0);
  CHECK(file_bytes() > 1500u * 4000u);
  // The data reads back through a fresh connection once the WAL is checkpointed.
  checkpointer->reset();
  db.reset();
  auto reopened = SqliteDatabase::Open(path);
  REQUIRE(reopened.has_value());
  CHECK(Count(**reopened, "blobs") == 1500);
}

TEST_CASE("a long WAL is restarted once old readers finish, never waiting on them for long",
          "[sqlite]") {
  testing::TempDir dir;
  std::string path = (dir / "wal.db").string();
  auto writer = OpenBlobWriter(path);
  InsertBlobs(*writer, 50);
  auto reader = SqliteDatabase::Open(path).value();
  REQUIRE(reader->Exec("BEGIN").has_value());
  auto snapshot = reader->Prepare("SELECT count(*) FROM blobs");
  REQUIRE(snapshot.has_value());
  REQUIRE(snapshot->Step().value());  // the read transaction now holds this snapshot
  InsertBlobs(*writer, 250);
  auto checkpointer =
      Checkpointer::Start(path, std::chrono::hours(1), /*restart_frames=*/200).value();

  // While the reader holds its snapshot the newer frames cannot be copied, and the RESTART
  // gives up after its busy timeout instead of waiting forever.
  auto held = checkpointer->CheckpointNow().value();
  CHECK(held.frames >= 250);
  CHECK(held.left > 0);

  snapshot->Reset();
  REQUIRE(reader->Exec("COMMIT").has_value());
  auto copied = checkpointer->CheckpointNow().value();
  CHECK(copied.left == 0);
  InsertBlobs(*writer, 1);  // the first commit after the RESTART writes from the start of the WAL
  auto restarted = checkpointer->CheckpointNow().value();
  CHECK(restarted.frames < 10);
  CHECK(restarted.left == 0);
  CHECK(Count(*reader, "blobs") == 301);
}

}  // namespace
}  // namespace imprint::sql
