#pragma once
// Statement: a prepared SQLite statement with bound parameters. Move-only; finalized on
// destruction. Parameter indices start at 1, column indices at 0 (as in SQLite).

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/error.h"

namespace imprint::sql {

class Database;

class Statement {
 public:
  // `cache` (may be null) takes the statement back for reuse under `sql` when this ends.
  Statement(sqlite3* db, sqlite3_stmt* stmt, Database* cache = nullptr, std::string sql = {})
      : db_(db), stmt_(stmt), cache_(cache), sql_(std::move(sql)) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view value);  // copied (SQLITE_TRANSIENT)
  Statement& Bind(int index, ByteView value);          // BLOB, copied
  Statement& BindNull(int index);

  // Binds each argument to successive parameters starting at 1.
  template <typename... Args>
  Statement& BindAll(const Args&... args) {
    int index = 0;
    (BindOne(++index, args), ...);
    return *this;
  }

  // Advances: true when a row is ready, false when done. Binding errors surface here.
  Result<bool> Step();
  // Steps to completion, expecting no rows.
  Status Run();
  // Resets for another execution and clears bindings.
  void Reset();

  int64_t ColumnInt64(int col) const;
  std::string ColumnText(int col) const;
  Bytes ColumnBlob(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  void BindOne(int index, int64_t v) { Bind(index, v); }
  void BindOne(int index, int v) { Bind(index, static_cast<int64_t>(v)); }
  void BindOne(int index, std::string_view v) { Bind(index, v); }
  void BindOne(int index, const std::string& v) { Bind(index, std::string_view(v)); }
  void BindOne(int index, const char* v) { Bind(index, std::string_view(v)); }
  void BindOne(int index, const Bytes& v) { Bind(index, ByteView(v)); }
  void BindOne(int index, ByteView v) { Bind(index, v); }
  void BindOne(int index, std::nullptr_t) { BindNull(index); }

  void Record(int rc, const char* call);

  void Release();

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Database* cache_;
  std::string sql_;
  int bind_rc_ = SQLITE_OK;  // first binding failure, reported by Step
  std::string bind_call_;
};

}  // namespace imprint::sql
