#pragma once
// Statement: a prepared statement with bound parameters, on either backend (SQLite or
// PostgreSQL). Write SQL once for both: `?` placeholders (PostgreSQL's backend numbers them),
// ON CONFLICT instead of INSERT OR IGNORE/REPLACE. Move-only; a backend takes the prepared
// statement back for reuse when it ends. Parameter indices start at 1, column indices at 0.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/error.h"

namespace imprint::sql {

// What a backend implements for one prepared statement.
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void BindInt(int index, int64_t value) = 0;
  virtual void BindText(int index, std::string_view value) = 0;
  virtual void BindBlob(int index, ByteView value) = 0;
  virtual void BindNull(int index) = 0;
  // true when a row is ready, false when done; binding errors surface here.
  virtual Result<bool> Step() = 0;
  // Runs a statement that returns no rows; a backend may send it without waiting for the
  // answer (see Statement::Queue). By default, runs it to completion now.
  virtual Status Queue();
  virtual void Reset() = 0;
  virtual int64_t ColumnInt64(int col) const = 0;
  virtual std::string ColumnText(int col) const = 0;
  virtual Bytes ColumnBlob(int col) const = 0;
  virtual bool ColumnIsNull(int col) const = 0;
};

class Statement {
 public:
  explicit Statement(std::unique_ptr<Cursor> cursor) : cursor_(std::move(cursor)) {}

  Statement& Bind(int index, int64_t value) {
    cursor_->BindInt(index, value);
    return *this;
  }
  Statement& Bind(int index, std::string_view value) {  // copied
    cursor_->BindText(index, value);
    return *this;
  }
  Statement& Bind(int index, ByteView value) {  // BLOB / bytea, copied; empty stays non-NULL
    cursor_->BindBlob(index, value);
    return *this;
  }
  Statement& BindNull(int index) {
    cursor_->BindNull(index);
    return *this;
  }

  // Binds each argument to successive parameters starting at 1.
  template <typename... Args>
  Statement& BindAll(const Args&... args) {
    int index = 0;
    (BindOne(++index, args), ...);
    return *this;
  }

  // Advances: true when a row is ready, false when done. Binding errors surface here.
  Result<bool> Step() { return cursor_->Step(); }
  // Steps to completion, expecting no rows.
  Status Run();
  // Like Run, but a networked backend may send it without waiting, with the statements
  // after it, in one round trip; its error then surfaces at the next call that waits for the
  // server (a query's Step, Exec, Commit). Use it for writes whose failure fails the whole
  // transaction (audit records, counters); use Run when the caller acts on this one's error
  // or on Changes().
  Status Queue() { return cursor_->Queue(); }
  // Resets for another execution and clears bindings.
  void Reset() { cursor_->Reset(); }

  int64_t ColumnInt64(int col) const { return cursor_->ColumnInt64(col); }
  std::string ColumnText(int col) const { return cursor_->ColumnText(col); }
  Bytes ColumnBlob(int col) const { return cursor_->ColumnBlob(col); }
  bool ColumnIsNull(int col) const { return cursor_->ColumnIsNull(col); }

 private:
  void BindOne(int index, int64_t v) { Bind(index, v); }
  void BindOne(int index, int v) { Bind(index, static_cast<int64_t>(v)); }
  void BindOne(int index, std::string_view v) { Bind(index, v); }
  void BindOne(int index, const std::string& v) { Bind(index, std::string_view(v)); }
  void BindOne(int index, const char* v) { Bind(index, std::string_view(v)); }
  void BindOne(int index, const Bytes& v) { Bind(index, ByteView(v)); }
  void BindOne(int index, ByteView v) { Bind(index, v); }
  void BindOne(int index, std::nullptr_t) { BindNull(index); }

  std::unique_ptr<Cursor> cursor_;
};

}  // namespace imprint::sql
