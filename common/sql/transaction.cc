#include "common/sql/transaction.h"

namespace imprint::sql {

Result<Transaction> Transaction::Begin(Database& db, Mode mode) {
  IMPRINT_RETURN_IF_ERROR(
      db.Begin(mode == Mode::kImmediate ? Database::Lock::kWrite : Database::Lock::kNone));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->Rollback();
}

Status Transaction::Commit() {
  if (db_ == nullptr) return Fail(Code::kFailedPrecondition, "transaction already ended");
  // A failed COMMIT leaves the transaction to the destructor's ROLLBACK.
  IMPRINT_RETURN_IF_ERROR(db_->Commit());
  db_ = nullptr;
  return {};
}

}  // namespace imprint::sql
