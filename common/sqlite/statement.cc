#include "common/sqlite/statement.h"

#include "common/sqlite/database.h"

#include <utility>

namespace imprint::sql {

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), cache_(other.cache_), sql_(std::move(other.sql_)),
      bind_rc_(other.bind_rc_), bind_call_(std::move(other.bind_call_)) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Release();
    db_ = other.db_;
    stmt_ = other.stmt_;
    cache_ = other.cache_;
    sql_ = std::move(other.sql_);
    bind_rc_ = other.bind_rc_;
    bind_call_ = std::move(other.bind_call_);
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { Release(); }

void Statement::Release() {
  if (stmt_ == nullptr) return;
  if (cache_ != nullptr) {
    cache_->Recycle(std::move(sql_), stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
}

void Statement::Record(int rc, const char* call) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
    bind_call_ = call;
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  Record(sqlite3_bind_int64(stmt_, index, value), "sqlite3_bind_int64");
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  Record(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                             SQLITE_UTF8),
         "sqlite3_bind_text64");
  return *this;
}

Statement& Statement::Bind(int index, ByteView value) {
  // A zero-length blob must still be a blob, not NULL: zeroblob(0) for empty input.
  int rc = value.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                         : sqlite3_bind_blob64(stmt_, index, value.data(), value.size(),
                                               SQLITE_TRANSIENT);
  Record(rc, "sqlite3_bind_blob64");
  return *this;
}

Statement& Statement::BindNull(int index) {
  Record(sqlite3_bind_null(stmt_, index), "sqlite3_bind_null");
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return std::unexpected(SqliteError(db_, bind_call_, bind_rc_));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(SqliteError(db_, "sqlite3_step", rc));
}

Status Statement::Run() {
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return {};
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
  bind_call_.clear();
}

int64_t Statement::ColumnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  int len = sqlite3_column_bytes(stmt_, col);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), len);
}

Bytes Statement::ColumnBlob(int col) const {
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
  int len = sqlite3_column_bytes(stmt_, col);
  return data == nullptr ? Bytes() : Bytes(data, data + len);
}

bool Statement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

}  // namespace imprint::sql
