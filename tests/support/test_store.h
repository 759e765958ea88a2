#pragma once
// The store a CA test runs on: SQLite by default; a fresh database on the throwaway PostgreSQL
// server that scripts/test.sh starts when IMPRINT_TEST_STORE=postgres (the "[postgres]" copies
// of the store tests). Such a test exits 77 (CTest: skipped) when no server was started.

#include <string>

namespace imprint::testing {

bool TestStoreIsPostgres();
// The [store] section for a test's ca.toml: empty for SQLite; for PostgreSQL, a database
// created for this call alone.
std::string TestStoreToml();
// libpq connection string for a new, empty database on the test server (PostgreSQL only).
std::string NewTestDatabase();

// A named copy of a stopped store, and putting it back (a restore from backup, or an
// attacker's rollback). `where`: the SQLite file, or (on PostgreSQL) the connection string of
// the database, copied with CREATE DATABASE ... TEMPLATE. Nothing may be connected to it.
void SaveStoreCopy(const std::string& where, const std::string& name);
void RestoreStoreCopy(const std::string& where, const std::string& name);

}  // namespace imprint::testing
