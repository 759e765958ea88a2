#pragma once
// PgCursor: a statement prepared on the PostgreSQL server behind sql::Statement. Executes on
// the first Step with what is bound, then walks the rows of the (text-format) result.

#include <libpq-fe.h>

#include <optional>
#include <string>
#include <vector>

#include "common/postgres/database.h"
#include "common/sql/statement.h"

namespace imprint::sql {

class PgDatabase;

class PgCursor final : public Cursor {
 public:
  PgCursor(PgDatabase* owner, std::string name, int params)
      : owner_(owner), name_(std::move(name)), values_(params), binary_(params, 0) {}
  ~PgCursor() override { Clear(); }
  PgCursor(const PgCursor&) = delete;
  PgCursor& operator=(const PgCursor&) = delete;

  void BindInt(int index, int64_t value) override;
  void BindText(int index, std::string_view value) override;
  void BindBlob(int index, ByteView value) override;
  void BindNull(int index) override;
  Result<bool> Step() override;
  Status Queue() override;  // no wait: the statement is sent with the next one that waits
  void Reset() override;
  int64_t ColumnInt64(int col) const override;
  std::string ColumnText(int col) const override;
  Bytes ColumnBlob(int col) const override;
  bool ColumnIsNull(int col) const override;

 private:
  // Sends the statement with what is bound (wait=false: queued, the result is null).
  Result<PgResultPtr> Execute(bool wait);
  void Set(int index, std::optional<std::string> value, bool binary);
  void Clear();

  PgDatabase* owner_;
  std::string name_;
  std::vector<std::optional<std::string>> values_;
  std::vector<int> binary_;
  std::string bind_error_;  // first bad index, reported by Step
  PGresult* result_ = nullptr;
  int row_ = -1;
};

}  // namespace imprint::sql
