#include "ca/admin_session.h"

#include <filesystem>

#include "ca/schema.h"

namespace imprint::ca {

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

Result<AdminSession> AdminSession::Open(const CaConfig& config) {
  if (!std::filesystem::exists(config.DatabasePath())) {
    return Fail(Code::kFailedPrecondition, "CA not initialised in " + config.state_dir +
                                               " (run imprint-ca init)");
  }
  AdminSession session;
  IMPRINT_ASSIGN_OR_RETURN(session.hsm, CaHsm::Open(config));
  IMPRINT_RETURN_IF_ERROR(session.hsm->LoadKeys(false));
  IMPRINT_ASSIGN_OR_RETURN(session.db, OpenCaDatabase(config));
  return session;
}

}  // namespace imprint::ca
