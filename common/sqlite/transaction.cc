#include "common/sqlite/transaction.h"

namespace imprint::sql {

Result<Transaction> Transaction::Begin(Database& db, Mode mode) {
  IMPRINT_RETURN_IF_ERROR(db.Run(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->Run("ROLLBACK");
}

Status Transaction::Commit() {
  if (db_ == nullptr) return Fail(Code::kFailedPrecondition, "transaction already ended");
  auto status = db_->Run("COMMIT");
  if (!status) {
    // COMMIT failed (e.g. SQLITE_BUSY/IOERR): the destructor's ROLLBACK ends the transaction.
    return status;
  }
  db_ = nullptr;
  return {};
}

}  // namespace imprint::sql
