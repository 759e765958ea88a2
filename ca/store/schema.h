#pragma once
// The CA database schema, as numbered migrations (docs/operations.md describes the tables).

#include <span>
#include <string_view>

#include "common/sql/migrations.h"

namespace imprint::ca {

// The migrations for `backend` ("sqlite" or "postgres", sql::Database::backend()).
std::span<const sql::Migration> CaMigrations(std::string_view backend);
// Every table of the CA schema, children first (for DROP TABLE).
std::string_view CaTables();

}  // namespace imprint::ca
