#include "ca/admin_session.h"

#include <filesystem>

#include "ca/audit_start.h"
#include "ca/schema.h"

namespace imprint::ca {
namespace {

Status RequireInitialised(const CaConfig& config) {
  if (!std::filesystem::exists(config.DatabasePath())) {
    return Fail(Code::kFailedPrecondition,
                "CA not initialised in " + config.state_dir + " (run imprint-ca init)");
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<sql::Database>> OpenCaDatabase(const CaConfig& config,
                                                      const sql::DatabaseOptions& options) {
  IMPRINT_ASSIGN_OR_RETURN(auto db, sql::Database::Open(config.DatabasePath(), options));
  IMPRINT_RETURN_IF_ERROR(sql::Migrate(*db, CaMigrations()));
  return db;
}

Result<std::unique_ptr<sql::Database>> OpenCaWriteDatabase(const CaConfig& config) {
  sql::DatabaseOptions options;
  options.auto_checkpoint = false;
  return OpenCaDatabase(config, options);
}

Result<std::unique_ptr<sql::Database>> OpenCaDatabaseReadOnly(const CaConfig& config) {
  IMPRINT_RETURN_IF_ERROR(RequireInitialised(config));
  sql::DatabaseOptions options;
  options.read_only = true;
  IMPRINT_ASSIGN_OR_RETURN(auto db, sql::Database::Open(config.DatabasePath(), options));
  IMPRINT_ASSIGN_OR_RETURN(int version, sql::SchemaVersion(*db));
  auto newest = static_cast<int>(CaMigrations().size());
  if (version != newest) {
    return Fail(Code::kFailedPrecondition,
                "database schema is version " + std::to_string(version) +
                    ", this imprint-ca reads " + std::to_string(newest) +
                    (version < newest ? " (run a writing command or serve "
                                        "once to migrate it)"
                                      : " (use a newer imprint-ca)"));
  }
  return db;
}

Result<AdminSession> AdminSession::OpenToken(const CaConfig& config) {
  IMPRINT_RETURN_IF_ERROR(RequireInitialised(config));
  AdminSession session;
  IMPRINT_ASSIGN_OR_RETURN(session.hsm, CaHsm::Open(config));
  IMPRINT_RETURN_IF_ERROR(session.hsm->LoadKeys(false));
  session.anchor = std::make_unique<AuditAnchor>(session.hsm->pool(), config.AuditLockPath());
  return session;
}

Result<AdminSession> AdminSession::Open(const CaConfig& config, std::string_view command) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession session, OpenToken(config));
  IMPRINT_ASSIGN_OR_RETURN(session.db, OpenCaDatabase(config));
  IMPRINT_RETURN_IF_ERROR(VerifyBeforeWriting(*session.db, session.seal(config), command));
  return session;
}

}  // namespace imprint::ca
