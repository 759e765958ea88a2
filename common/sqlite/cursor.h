#pragma once
// SqliteCursor: a prepared SQLite statement behind sql::Statement. Given back to its
// database's cache (reset, bindings cleared) when it ends.

#include <sqlite3.h>

#include <string>

#include "common/sql/statement.h"

namespace imprint::sql {

class SqliteDatabase;

class SqliteCursor final : public Cursor {
 public:
  SqliteCursor(SqliteDatabase* owner, sqlite3_stmt* stmt, std::string sql)
      : owner_(owner), stmt_(stmt), sql_(std::move(sql)) {}
  ~SqliteCursor() override;
  SqliteCursor(const SqliteCursor&) = delete;
  SqliteCursor& operator=(const SqliteCursor&) = delete;

  void BindInt(int index, int64_t value) override;
  void BindText(int index, std::string_view value) override;
  void BindBlob(int index, ByteView value) override;
  void BindNull(int index) override;
  Result<bool> Step() override;
  void Reset() override;
  int64_t ColumnInt64(int col) const override;
  std::string ColumnText(int col) const override;
  Bytes ColumnBlob(int col) const override;
  bool ColumnIsNull(int col) const override;

 private:
  void Record(int rc, const char* call);

  SqliteDatabase* owner_;
  sqlite3_stmt* stmt_;
  std::string sql_;
  int bind_rc_ = SQLITE_OK;  // first binding failure, reported by Step
  std::string bind_call_;
};

}  // namespace imprint::sql
