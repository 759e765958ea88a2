#pragma once
// SqliteDatabase: one SQLite connection in WAL mode with a busy timeout and foreign keys on.
// The one place SQLite result codes become imprint Errors (SqliteError). The store's write
// lock (Lock::kWrite) is SQLite's own: BEGIN IMMEDIATE.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/error.h"
#include "common/sql/database.h"

namespace imprint::sql {

struct DatabaseOptions {
  int busy_timeout_ms = 10000;
  // WAL with synchronous=FULL: a transaction is durable once Commit returns, even across
  // power loss. NORMAL would trade the last transactions for speed; the CA never does.
  std::string synchronous = "FULL";
  bool read_only = false;
  // false: this connection never checkpoints the WAL itself (a Checkpointer does).
  bool auto_checkpoint = true;
};

class SqliteDatabase final : public Database {
 public:
  // Opens (creating if needed, unless read_only) the database at `path`; ":memory:" works.
  static Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& path,
                                                      const DatabaseOptions& options = {});
  ~SqliteDatabase() override;

  Status Exec(std::string_view sql) override;
  Result<Statement> Prepare(std::string_view sql) override;
  int Changes() const override;
  std::string_view backend() const override { return "sqlite"; }
  Status Begin(Lock lock) override;
  Status Commit() override;
  Status Rollback() override;
  Result<int> SchemaVersion() override;
  Status SetSchemaVersion(int version) override;

  sqlite3* handle() const { return db_; }

 private:
  friend class SqliteCursor;
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  void Recycle(std::string sql, sqlite3_stmt* stmt);

  sqlite3* db_;
  std::unordered_multimap<std::string, sqlite3_stmt*> idle_;  // reset, ready for reuse
};

// Error for SQLite result `rc` (an extended result code) from `call`: BUSY/LOCKED ->
// UNAVAILABLE (retryable), CONSTRAINT_UNIQUE/PRIMARYKEY -> ALREADY_EXISTS, CONSTRAINT_FOREIGNKEY
// -> FAILED_PRECONDITION, other constraints (CHECK, NOT NULL) -> INTERNAL, CORRUPT/NOTADB ->
// DATA_LOSS, FULL/IOERR -> UNAVAILABLE, others INTERNAL. The message carries sqlite3_errmsg for
// the log, never for a caller.
Error SqliteError(sqlite3* db, std::string_view call, int rc);

}  // namespace imprint::sql
