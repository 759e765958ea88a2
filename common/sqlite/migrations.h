#pragma once
// Numbered schema migrations tracked in PRAGMA user_version.

#include <span>
#include <string_view>

#include "common/error.h"
#include "common/sqlite/database.h"

namespace imprint::sql {

struct Migration {
  int version;           // 1, 2, 3, ... in order, no gaps
  std::string_view sql;  // schema statements
};

// Applies every migration newer than the database's user_version, each in its own immediate
// transaction together with the user_version bump. FAILED_PRECONDITION if the database is newer
// than the newest migration (an older binary must not touch a newer schema), INVALID_ARGUMENT
// if the list is not 1..N in order.
Status Migrate(Database& db, std::span<const Migration> migrations);

// The database's user_version.
Result<int> SchemaVersion(Database& db);

}  // namespace imprint::sql
