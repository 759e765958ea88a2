#include "common/sqlite/cursor.h"

#include "common/sqlite/database.h"

namespace imprint::sql {

SqliteCursor::~SqliteCursor() { owner_->Recycle(std::move(sql_), stmt_); }

void SqliteCursor::Record(int rc, const char* call) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
    bind_call_ = call;
  }
}

void SqliteCursor::BindInt(int index, int64_t value) {
  Record(sqlite3_bind_int64(stmt_, index, value), "sqlite3_bind_int64");
}

void SqliteCursor::BindText(int index, std::string_view value) {
  Record(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      "sqlite3_bind_text64");
}

void SqliteCursor::BindBlob(int index, ByteView value) {
  // A zero-length blob must still be a blob, not NULL: zeroblob(0) for empty input.
  int rc = value.empty()
               ? sqlite3_bind_zeroblob(stmt_, index, 0)
               : sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT);
  Record(rc, "sqlite3_bind_blob64");
}

void SqliteCursor::BindNull(int index) {
  Record(sqlite3_bind_null(stmt_, index), "sqlite3_bind_null");
}

Result<bool> SqliteCursor::Step() {
  sqlite3* db = owner_->handle();
  if (bind_rc_ != SQLITE_OK) return std::unexpected(SqliteError(db, bind_call_, bind_rc_));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(SqliteError(db, "sqlite3_step", rc));
}

void SqliteCursor::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
  bind_call_.clear();
}

int64_t SqliteCursor::ColumnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string SqliteCursor::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  int len = sqlite3_column_bytes(stmt_, col);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), len);
}

Bytes SqliteCursor::ColumnBlob(int col) const {
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
  int len = sqlite3_column_bytes(stmt_, col);
  return data == nullptr ? Bytes() : Bytes(data, data + len);
}

bool SqliteCursor::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

}  // namespace imprint::sql
