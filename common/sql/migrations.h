#pragma once
// Numbered schema migrations; the backend keeps the version (SQLite: PRAGMA user_version;
// PostgreSQL: a one-row table).

#include <span>
#include <string_view>

#include "common/error.h"
#include "common/sql/database.h"

namespace imprint::sql {

struct Migration {
  int version;           // 1, 2, 3, ... in order, no gaps
  std::string_view sql;  // schema statements
};

// Applies every migration newer than the database's schema version, each in its own immediate
// transaction together with the schema version bump. FAILED_PRECONDITION if the database is newer
// than the newest migration (an older binary must not touch a newer schema), INVALID_ARGUMENT
// if the list is not 1..N in order.
Status Migrate(Database& db, std::span<const Migration> migrations);

}  // namespace imprint::sql
