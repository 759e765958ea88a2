#pragma once
// The CA database schema, as numbered migrations (docs/operations.md describes the tables).

#include <span>

#include "common/sqlite/migrations.h"

namespace imprint::ca {

std::span<const sql::Migration> CaMigrations();

}  // namespace imprint::ca
