#include "common/sqlite/database.h"

#include "common/sqlite/cursor.h"

namespace imprint::sql {

Error SqliteError(sqlite3* db, std::string_view call, int rc) {
  Code code = Code::kInternal;
  switch (rc & 0xff) {  // primary result code
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      code = Code::kUnavailable;
      break;
    case SQLITE_CONSTRAINT:
      // By what the constraint says (sqlite.org/rescode.html): only a UNIQUE or PRIMARY KEY
      // clash means "already exists". A missing referenced row is a precondition; a CHECK or
      // NOT NULL failure means the code wrote what it had checked against: a bug.
      switch (rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
        case SQLITE_CONSTRAINT_ROWID:
          code = Code::kAlreadyExists;
          break;
        case SQLITE_CONSTRAINT_FOREIGNKEY:
          code = Code::kFailedPrecondition;
          break;
        default:
          code = Code::kInternal;
          break;
      }
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = Code::kDataLoss;
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
      code = Code::kPermissionDenied;
      break;
    default:
      break;
  }
  std::string message(call);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error(code, std::move(message));
}

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                             const DatabaseOptions& options) {
  sqlite3* db = nullptr;
  int flags =
      SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI |
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<SqliteDatabase> database(new SqliteDatabase(db));  // closes db even on failure
  if (rc != SQLITE_OK) return std::unexpected(SqliteError(db, "sqlite3_open_v2 " + path, rc));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  if (options.synchronous != "FULL" && options.synchronous != "NORMAL" &&
      options.synchronous != "EXTRA") {
    return Fail(Code::kInvalidArgument, "synchronous must be NORMAL, FULL or EXTRA");
  }
  IMPRINT_RETURN_IF_ERROR(database->Exec("PRAGMA foreign_keys = ON"));
  if (!options.read_only) {
    IMPRINT_RETURN_IF_ERROR(database->Exec("PRAGMA journal_mode = WAL"));
    IMPRINT_RETURN_IF_ERROR(database->Exec("PRAGMA synchronous = " + options.synchronous));
  }
  if (!options.auto_checkpoint) sqlite3_wal_autocheckpoint(db, 0);
  return database;
}

SqliteDatabase::~SqliteDatabase() {
  for (auto& [sql, stmt] : idle_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

void SqliteDatabase::Recycle(std::string sql, sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  idle_.emplace(std::move(sql), stmt);
}

Status SqliteDatabase::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return std::unexpected(SqliteError(db_, "sqlite3_exec", rc));
  return {};
}

Result<Statement> SqliteDatabase::Prepare(std::string_view sql) {
  std::string key(sql);
  if (auto it = idle_.find(key); it != idle_.end()) {
    sqlite3_stmt* stmt = it->second;
    idle_.erase(it);
    return Statement(std::make_unique<SqliteCursor>(this, stmt, std::move(key)));
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return std::unexpected(SqliteError(db_, "sqlite3_prepare_v3", rc));
  }
  return Statement(std::make_unique<SqliteCursor>(this, stmt, std::move(key)));
}

int SqliteDatabase::Changes() const { return sqlite3_changes(db_); }

Status SqliteDatabase::Begin(Lock lock) {
  return Run(lock == Lock::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
}

Status SqliteDatabase::Commit() { return Run("COMMIT"); }

Status SqliteDatabase::Rollback() { return Run("ROLLBACK"); }

Result<int> SqliteDatabase::SchemaVersion() {
  IMPRINT_ASSIGN_OR_RETURN(Statement stmt, Prepare("PRAGMA user_version"));
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Fail(Code::kInternal, "PRAGMA user_version returned no row");
  return static_cast<int>(stmt.ColumnInt64(0));
}

Status SqliteDatabase::SetSchemaVersion(int version) {
  // PRAGMA takes no bound parameters; the value is our own integer, not input.
  return Exec("PRAGMA user_version = " + std::to_string(version));
}

}  // namespace imprint::sql
