// sql::Database as the CA uses it, on the test's store (SQLite, or PostgreSQL in the
// "[postgres]" copies): queued statements keep their order and their errors, transactions
// undo everything on a failure, and a connection stays usable after one.

#include <catch2/catch.hpp>

#include "common/postgres/database.h"
#include "common/sql/migrations.h"
#include "common/sql/transaction.h"
#include "common/sqlite/database.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace imprint::sql {
namespace {

// One text for both backends, as the CA writes it.
constexpr Migration kMigrations[] = {
    {1, "CREATE TABLE items (id TEXT PRIMARY KEY, n BIGINT NOT NULL, blob BYTEA);"},
};

struct TestDb {
  testing::TempDir dir;
  std::string conninfo;  // PostgreSQL: the database every Open connects to

  std::unique_ptr<Database> Open(int lock_timeout_ms = 10000) {
    if (testing::TestStoreIsPostgres()) {
      if (conninfo.empty()) conninfo = testing::NewTestDatabase();
      PgOptions options;
      options.conninfo = conninfo;
      options.lock_timeout_ms = lock_timeout_ms;
      auto db = PgDatabase::Open(options);
      REQUIRE(db.has_value());
      return std::move(*db);
    }
    auto db = SqliteDatabase::Open((dir / "store.db").string());
    REQUIRE(db.has_value());
    return std::move(*db);
  }
  std::unique_ptr<Database> OpenMigrated() {
    auto db = Open();
    REQUIRE(Migrate(*db, kMigrations).has_value());
    return db;
  }
};

Status Insert(Database& db, const std::string& id, int64_t n, bool queue) {
  IMPRINT_ASSIGN_OR_RETURN(auto insert, db.Prepare("INSERT INTO items (id, n) VALUES (?, ?)"));
  insert.BindAll(id, n);
  return queue ? insert.Queue() : insert.Run();
}

int64_t Count(Database& db) {
  auto count = db.Prepare("SELECT COUNT(*) FROM items");
  REQUIRE(count.has_value());
  auto row = count->Step();
  REQUIRE(row.has_value());
  REQUIRE(*row);
  return count->ColumnInt64(0);
}

TEST_CASE("queued writes are applied in order and seen by the next read", "[store]") {
  TestDb t;
  auto db = t.OpenMigrated();
  auto txn = Transaction::Begin(*db);
  REQUIRE(txn.has_value());
  REQUIRE(Insert(*db, "a", 1, true).has_value());
  auto bump = db->Prepare("UPDATE items SET n = n + 10 WHERE id = ?");
  REQUIRE(bump.has_value());
  bump->BindAll("a");
  REQUIRE(bump->Queue().has_value());  // must run after the insert it depends on
  auto read = db->Prepare("SELECT n FROM items WHERE id = ?");
  REQUIRE(read.has_value());
  read->BindAll("a");
  auto row = read->Step();
  REQUIRE(row.has_value());
  REQUIRE(*row);
  CHECK(read->ColumnInt64(0) == 11);
  REQUIRE(txn->Commit().has_value());
  CHECK(Count(*t.Open()) == 1);
}

TEST_CASE("a queued write that fails fails the commit and nothing of it stays", "[store]") {
  TestDb t;
  auto db = t.OpenMigrated();
  REQUIRE(Insert(*db, "taken", 1, false).has_value());
  {
    auto txn = Transaction::Begin(*db);
    REQUIRE(txn.has_value());
    REQUIRE(Insert(*db, "new", 2, true).has_value());
    // SQLite runs it now and says so; PostgreSQL says so at the next call that waits.
    Status clash = Insert(*db, "taken", 3, true);
    Status committed = clash ? txn->Commit() : clash;
    REQUIRE_FALSE(committed.has_value());
    CHECK(committed.error().code() == Code::kAlreadyExists);
  }
  // The connection works on, and the failed transaction left nothing.
  CHECK(Count(*db) == 1);
  REQUIRE(Insert(*db, "later", 4, false).has_value());
  CHECK(Count(*t.Open()) == 2);
}

TEST_CASE("a queued failure is the error of the next read, which the caller can undo", "[store]") {
  TestDb t;
  auto db = t.OpenMigrated();
  REQUIRE(Insert(*db, "taken", 1, false).has_value());
  {
    auto txn = Transaction::Begin(*db);
    REQUIRE(txn.has_value());
    auto read = db->Prepare("SELECT n FROM items WHERE id = ?");  // before: Prepare may wait too
    REQUIRE(read.has_value());
    Status clash = Insert(*db, "taken", 2, true);
    if (clash) {
      read->BindAll("taken");
      auto row = read->Step();
      REQUIRE_FALSE(row.has_value());
      clash = std::unexpected(row.error());
    }
    REQUIRE_FALSE(clash.has_value());
    CHECK(clash.error().code() == Code::kAlreadyExists);
  }  // rolled back
  CHECK(Count(*db) == 1);
}

TEST_CASE("bytes go in and come back as they were, NUL and high bytes included", "[store]") {
  TestDb t;
  auto db = t.OpenMigrated();
  Bytes blob{0x00, 0xff, 0x5c, 0x27, 0x00, 0x80};
  auto insert = db->Prepare("INSERT INTO items (id, n, blob) VALUES (?, ?, ?)");
  REQUIRE(insert.has_value());
  insert->BindAll("b", 1, blob);
  REQUIRE(insert->Queue().has_value());
  auto read = db->Prepare("SELECT blob, n FROM items WHERE blob = ?");
  REQUIRE(read.has_value());
  read->BindAll(blob);
  auto row = read->Step();
  REQUIRE(row.has_value());
  REQUIRE(*row);
  CHECK(read->ColumnBlob(0) == blob);
  CHECK(read->ColumnInt64(1) == 1);
}

TEST_CASE("a writer that cannot get the write lock in time is told so and can go on", "[store]") {
  if (!testing::TestStoreIsPostgres()) return;  // SQLite's wait is its busy timeout
  TestDb t;
  auto holder = t.OpenMigrated();
  auto waiter = t.Open(200);
  auto held = Transaction::Begin(*holder);
  REQUIRE(held.has_value());
  REQUIRE(Insert(*holder, "held", 1, false).has_value());
  {
    auto txn = Transaction::Begin(*waiter);
    Status inserted = txn ? Insert(*waiter, "waiting", 2, false) : std::unexpected(txn.error());
    REQUIRE_FALSE(inserted.has_value());
    CHECK(inserted.error().code() == Code::kUnavailable);
  }
  REQUIRE(held->Commit().has_value());
  REQUIRE(Insert(*waiter, "after", 3, false).has_value());
  CHECK(Count(*waiter) == 2);
}

TEST_CASE("a failure libpq reports without a SQLSTATE is a lost connection", "[store]") {
  if (!testing::TestStoreIsPostgres()) return;
  // libpq said "server closed the connection unexpectedly" with PQstatus still CONNECTION_OK
  // when a primary was SIGKILLed; that answered stations INTERNAL and kept the dead connection.
  PGconn* conn = PQconnectdb(testing::NewTestDatabase().c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  PGresult* own = PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);  // libpq's own: no SQLSTATE
  PGresult* server = PQexec(conn, "SELECT * FROM no_such_table");
  REQUIRE(PQresultStatus(server) == PGRES_FATAL_ERROR);
  CHECK(ConnectionLost(conn, own));
  CHECK(PgError(conn, own, "call").code() == Code::kUnavailable);
  CHECK_FALSE(ConnectionLost(conn, server));  // 42P01: the connection is fine
  CHECK(PgError(conn, server, "call").code() == Code::kInternal);
  PQclear(own);
  PQclear(server);
  PQfinish(conn);
}

TEST_CASE("a connection whose server process ended is replaced at the next call", "[store]") {
  if (!testing::TestStoreIsPostgres()) return;
  TestDb t;
  auto db = t.OpenMigrated();
  auto admin = t.Open();
  REQUIRE(Insert(*db, "before", 1, false).has_value());
  auto pid = db->Prepare("SELECT pg_backend_pid()");
  REQUIRE(pid.has_value());
  REQUIRE(pid->Step().value_or(false));
  std::string backend = pid->ColumnText(0);
  REQUIRE(admin->Exec("SELECT pg_terminate_backend(" + backend + ")").has_value());
  auto lost = db->Prepare("SELECT count(*) FROM items");
  Result<bool> step = lost ? lost->Step() : std::unexpected(lost.error());
  if (!step) CHECK(step.error().code() == Code::kUnavailable);  // the call that met the loss
  CHECK(Count(*db) == 1);                                       // the next one reconnects
}

TEST_CASE("a connection string that does not parse is refused without its password", "[store]") {
  for (const char* conninfo :
       {"postgresql://imprint:s3cret-pw@[::1/imprint", "host=/tmp password='s3cret-pw",
        "host=/tmp password=s3cret pw dbname=imprint"}) {
    INFO(conninfo);
    PgOptions options;
    options.conninfo = conninfo;
    auto db = PgDatabase::Open(options);
    REQUIRE_FALSE(db.has_value());
    CHECK(db.error().code() == Code::kInvalidArgument);
    CHECK(db.error().message().find("does not parse") != std::string::npos);
    CHECK(db.error().message().find("s3cret") == std::string::npos);
    CHECK(db.error().message().find(" pw") == std::string::npos);
  }
}

TEST_CASE("placeholders are numbered outside quotes and comments", "[store]") {
  int count = 0;
  CHECK(NumberPlaceholders("SELECT ?, '?', \"?\" -- ?\n FROM t WHERE a = ?", &count) ==
        "SELECT $1, '?', \"?\" -- ?\n FROM t WHERE a = $2");
  CHECK(count == 2);
}

}  // namespace
}  // namespace imprint::sql
