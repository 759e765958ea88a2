#pragma once
// Database: one SQLite connection in WAL mode with a busy timeout and foreign keys on.
// The one place SQLite result codes become imprint Errors (SqliteError).
//
// Thread safety: a Database is used by one thread at a time (or guarded by its owner);
// concurrent writers use separate connections and the busy timeout.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/error.h"
#include "common/sqlite/statement.h"

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

class Database {
 public:
  // Opens (creating if needed, unless read_only) the database at `path`; ":memory:" works.
  static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs SQL text without parameters: schema and pragmas only. Values always go through
  // Prepare + Bind.
  Status Exec(std::string_view sql);
  // A prepared statement for one SQL statement. Prepared statements are cached per connection:
  // when the Statement ends it is reset and kept for the next Prepare of the same text.
  Result<Statement> Prepare(std::string_view sql);
  // Prepare + Run for a single statement without parameters (BEGIN, SAVEPOINT, ...).
  Status Run(std::string_view sql);

  int64_t LastInsertRowId() const;
  int Changes() const;
  sqlite3* handle() const { return db_; }

 private:
  friend class Statement;
  explicit Database(sqlite3* db) : db_(db) {}
  void Recycle(std::string sql, sqlite3_stmt* stmt);

  sqlite3* db_;
  std::unordered_multimap<std::string, sqlite3_stmt*> idle_;  // reset, ready for reuse
};

// Error for SQLite result `rc` (an extended result code) from `call`: BUSY/LOCKED ->
// UNAVAILABLE (retryable), CONSTRAINT_UNIQUE/PRIMARYKEY -> ALREADY_EXISTS, CONSTRAINT_FOREIGNKEY
// -> FAILED_PRECONDITION, other constraints (CHECK, NOT NULL) -> INTERNAL, CORRUPT/NOTADB -> DATA_LOSS, FULL/IOERR -> UNAVAILABLE,
// others INTERNAL. The message carries sqlite3_errmsg for the log, never for a caller.
Error SqliteError(sqlite3* db, std::string_view call, int rc);

}  // namespace imprint::sql
