#pragma once
// AdminSession: what an admin subcommand works with: the token (keys loaded), the audit anchor
// and the migrated database.

#include <memory>
#include <string_view>

#include "ca/audit/anchor.h"
#include "ca/config.h"
#include "ca/hsm.h"
#include "ca/store/store.h"
#include "ca/audit/writer.h"
#include "common/sql/database.h"

namespace imprint::ca {

struct AdminSession {
  std::unique_ptr<CaHsm> hsm;
  std::unique_ptr<AuditAnchor> anchor;
  std::unique_ptr<sql::Database> db;

  // For a command that writes: FAILED_PRECONDITION if the CA was never initialised; DATA_LOSS
  // if the audit log or its anchor fails VerifyBeforeWriting (then nothing is written).
  // `command` names the caller in a kept refusal.
  static Result<AdminSession> Open(const CaConfig& config, std::string_view command);
  // The token and its anchor only (keys loaded, no database).
  static Result<AdminSession> OpenToken(const CaConfig& config);
  // Adds the database to a token session, as Open does (same checks, same refusal).
  Status OpenDatabase(const CaConfig& config, std::string_view command);

  SealPolicy seal(const CaConfig& config) {
    return {&hsm->audit(), anchor.get(), config.checkpoint_every};
  }
  Status Write(const CaConfig& config, const WriteOp& op) {
    return RunSealed(*db, op, seal(config));
  }
};

}  // namespace imprint::ca
