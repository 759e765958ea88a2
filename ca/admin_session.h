#pragma once
// AdminSession: what an admin subcommand works with: the migrated store (one connection, which
// on PostgreSQL also holds the seal lock), the token (keys loaded, one login) and the audit
// anchor. A command opens one AdminSession and passes what it holds down to the rules.

#include <memory>
#include <string_view>

#include "ca/audit/anchor.h"
#include "ca/audit/writer.h"
#include "ca/config.h"
#include "ca/hsm.h"
#include "ca/store/store.h"
#include "common/sql/database.h"

namespace imprint::ca {

struct AdminSession {
  // First, so it is closed last: the anchor's seal lock may be held on it.
  std::unique_ptr<sql::Database> db;
  std::unique_ptr<CaHsm> hsm;
  std::unique_ptr<AuditAnchor> anchor;

  // For a command that writes: FAILED_PRECONDITION if the CA was never initialised; DATA_LOSS
  // if the audit log or its anchor fails VerifyBeforeWriting (then nothing is written).
  // `command` names the caller in a kept refusal.
  static Result<AdminSession> Open(const CaConfig& config, std::string_view command);
  // The store and the token without that check, for a command that reads first and writes
  // only on what it read (evidence): VerifyBeforeWriting must succeed before its Write.
  static Result<AdminSession> OpenUnverified(const CaConfig& config);
  Status VerifyBeforeWriting(const CaConfig& config, std::string_view command);
  // For a command that only reads: the store read-only (never created or migrated) and the
  // token.
  static Result<AdminSession> OpenReadOnly(const CaConfig& config);
  // The token and its anchor only (keys loaded, no database).
  static Result<AdminSession> OpenToken(const CaConfig& config);

  SealPolicy seal(const CaConfig& config) {
    return {&hsm->audit(), anchor.get(), config.checkpoint_every};
  }
  Status Write(const CaConfig& config, const WriteOp& op) {
    return RunSealed(*db, op, seal(config));
  }
};

}  // namespace imprint::ca
