#pragma once
// AdminSession: what an admin subcommand works with: the token (keys loaded) and the
// migrated database.

#include <memory>

#include "ca/config.h"
#include "ca/hsm.h"
#include "ca/writer.h"
#include "common/sqlite/database.h"

namespace imprint::ca {

struct AdminSession {
  std::unique_ptr<CaHsm> hsm;
  std::unique_ptr<sql::Database> db;

  // FAILED_PRECONDITION if the CA was never initialised.
  static Result<AdminSession> Open(const CaConfig& config);

  SealPolicy seal(const CaConfig& config) { return {&hsm->audit(), config.checkpoint_every}; }
  Status Write(const CaConfig& config, const WriteOp& op) {
    return RunSealed(*db, op, seal(config));
  }
};

// Opens (creating if needed) and migrates the CA database.
Result<std::unique_ptr<sql::Database>> OpenCaDatabase(const CaConfig& config,
                                                      const sql::DatabaseOptions& options = {});
// The serving writer's connection: it never stops a batch commit for a WAL checkpoint, so run
// a sql::Checkpointer on the same database beside it.
Result<std::unique_ptr<sql::Database>> OpenCaWriteDatabase(const CaConfig& config);

}  // namespace imprint::ca
