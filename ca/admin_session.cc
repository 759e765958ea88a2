#include "ca/admin_session.h"

#include "ca/audit/start.h"
#include "ca/store/store.h"

namespace imprint::ca {
namespace {

Status LoadToken(const CaConfig& config, AdminSession& session) {
  IMPRINT_ASSIGN_OR_RETURN(session.hsm, CaHsm::Open(config));
  return session.hsm->LoadKeys(false);
}

// The token and its anchor beside `db`, whose connection then holds the seal lock.
Result<AdminSession> WithStore(const CaConfig& config, Result<std::unique_ptr<sql::Database>> db) {
  if (!db) return std::unexpected(db.error());
  AdminSession session;
  session.db = std::move(*db);
  IMPRINT_RETURN_IF_ERROR(LoadToken(config, session));
  session.anchor =
      std::make_unique<AuditAnchor>(session.hsm->pool(), MakeSealLocker(config, *session.db));
  return session;
}

}  // namespace

Result<AdminSession> AdminSession::OpenToken(const CaConfig& config) {
  IMPRINT_RETURN_IF_ERROR(RequireInitialised(config));
  AdminSession session;
  IMPRINT_RETURN_IF_ERROR(LoadToken(config, session));
  session.anchor = std::make_unique<AuditAnchor>(session.hsm->pool(), MakeSealLocker(config));
  return session;
}

Result<AdminSession> AdminSession::OpenUnverified(const CaConfig& config) {
  return WithStore(config, OpenInitialisedCaDatabase(config));
}

Result<AdminSession> AdminSession::OpenReadOnly(const CaConfig& config) {
  return WithStore(config, OpenCaDatabaseReadOnly(config));
}

Result<AdminSession> AdminSession::Open(const CaConfig& config, std::string_view command) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession session, OpenUnverified(config));
  IMPRINT_RETURN_IF_ERROR(session.VerifyBeforeWriting(config, command));
  return session;
}

Status AdminSession::VerifyBeforeWriting(const CaConfig& config, std::string_view command) {
  IMPRINT_RETURN_IF_ERROR(ca::VerifyBeforeWriting(*db, seal(config), command));
  return {};
}

}  // namespace imprint::ca
