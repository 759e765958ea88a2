#pragma once
// The CA's store ([store] in the config): SQLite in state_dir (one machine) or PostgreSQL
// (shared by every CA node). Everything the CA keeps goes through sql::Database from here; no
// other code asks which backend it has.

#include <memory>
#include <optional>
#include <string>

#include "ca/config.h"
#include "ca/store/seal_lock.h"
#include "common/error.h"
#include "common/sql/connection_pool.h"
#include "common/sql/database.h"

namespace imprint::ca {

// Opens (creating if needed) and migrates the CA database.
Result<std::unique_ptr<sql::Database>> OpenCaDatabase(const CaConfig& config);
// The same for a CA that must exist: FAILED_PRECONDITION "CA not initialised" otherwise, found
// on the one connection it returns (an admin command's). Creates nothing.
Result<std::unique_ptr<sql::Database>> OpenInitialisedCaDatabase(const CaConfig& config);
// The serving writer's connection (for SQLite: it never checkpoints the WAL inside a batch
// commit; StartStoreUpkeep does that beside it). Migrates like OpenCaDatabase.
Result<std::unique_ptr<sql::Database>> OpenCaWriteDatabase(const CaConfig& config);
// For commands that only read: never creates or migrates. FAILED_PRECONDITION when there is no
// database or its schema is not the one this binary writes. One connection.
Result<std::unique_ptr<sql::Database>> OpenCaDatabaseReadOnly(const CaConfig& config);
// `size` connections for the server's reads (the schema must already be migrated).
Result<std::unique_ptr<sql::ConnectionPool>> OpenCaReadPool(const CaConfig& config, size_t size);

// What the store needs done in the background while the CA serves (SQLite: WAL checkpoints);
// stops when it ends.
class StoreUpkeep {
 public:
  virtual ~StoreUpkeep() = default;
};
Result<std::unique_ptr<StoreUpkeep>> StartStoreUpkeep(const CaConfig& config);

// The seal lock of this store (ca/store/seal_lock.h). For PostgreSQL, each lock holds a
// connection of its own; with `connection`, the lock is taken on that connection instead (an
// admin command's only one, used by one thread, which outlives the locker).
SealLocker MakeSealLocker(const CaConfig& config);
SealLocker MakeSealLocker(const CaConfig& config, sql::Database& connection);

// Where the store is, for messages: the SQLite file or "PostgreSQL (host=... dbname=...)"
// (the connection string never holds a password: the config refuses one).
std::string StoreName(const CaConfig& config);
// nullopt when the store holds no CA yet; otherwise what holds one (for `init`'s refusal).
// UNAVAILABLE when PostgreSQL cannot be reached.
Result<std::optional<std::string>> ExistingStore(const CaConfig& config);
// FAILED_PRECONDITION "CA not initialised ..." unless the store holds a CA.
Status RequireInitialised(const CaConfig& config);
// Takes back a store that a failed `init` created (SQLite: the caller removes the files;
// PostgreSQL: drops the CA's tables). Only for a store ExistingStore found empty before.
Status DropNewStore(const CaConfig& config);

}  // namespace imprint::ca
