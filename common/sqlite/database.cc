#include "common/sqlite/database.h"

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
      code = Code::kAlreadyExists;
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

Result<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                 const DatabaseOptions& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI |
              (options.read_only ? SQLITE_OPEN_READONLY
                                 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<Database> database(new Database(db));  // closes db even on failure
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
  return database;
}

Database::~Database() { sqlite3_close_v2(db_); }

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return std::unexpected(SqliteError(db_, "sqlite3_exec", rc));
  return {};
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return std::unexpected(SqliteError(db_, "sqlite3_prepare_v2", rc));
  }
  return Statement(db_, stmt);
}

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Database::Changes() const { return sqlite3_changes(db_); }

}  // namespace imprint::sql
