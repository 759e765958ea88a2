#include "common/sql/migrations.h"

#include <string>

#include "common/sql/transaction.h"

namespace imprint::sql {

Status Migrate(Database& db, std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return Fail(Code::kInvalidArgument, "migrations must be numbered 1..N in order");
    }
  }
  int newest = static_cast<int>(migrations.size());
  IMPRINT_ASSIGN_OR_RETURN(int current, db.SchemaVersion());
  if (current > newest) {
    return Fail(Code::kFailedPrecondition, "database schema version " + std::to_string(current) +
                                               " is newer than this program supports (" +
                                               std::to_string(newest) + ")");
  }
  for (const Migration& m : migrations.subspan(static_cast<size_t>(current))) {
    IMPRINT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db));
    // Re-read inside the write lock: another process may have migrated meanwhile.
    IMPRINT_ASSIGN_OR_RETURN(int now, db.SchemaVersion());
    if (now >= m.version) continue;
    IMPRINT_RETURN_IF_ERROR(db.Exec(m.sql));
    IMPRINT_RETURN_IF_ERROR(db.SetSchemaVersion(m.version));
    IMPRINT_RETURN_IF_ERROR(txn.Commit());
  }
  return {};
}

}  // namespace imprint::sql
