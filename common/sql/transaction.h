#pragma once
// Transaction: BEGIN on creation, ROLLBACK on destruction unless Commit succeeded.

#include "common/error.h"
#include "common/sql/database.h"

namespace imprint::sql {

class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };

  // kImmediate takes the store's write lock at once (Database::Lock::kWrite), so a
  // read-then-write transaction cannot fail on a lock halfway through; it waits at BEGIN.
  static Result<Transaction> Begin(Database& db, Mode mode = Mode::kImmediate);

  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;  // null once committed or rolled back
};

}  // namespace imprint::sql
