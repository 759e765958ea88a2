#include "ca/admin_session.h"

#include "ca/audit/start.h"
#include "ca/store/store.h"

namespace imprint::ca {

Result<AdminSession> AdminSession::OpenToken(const CaConfig& config) {
  IMPRINT_RETURN_IF_ERROR(RequireInitialised(config));
  AdminSession session;
  IMPRINT_ASSIGN_OR_RETURN(session.hsm, CaHsm::Open(config));
  IMPRINT_RETURN_IF_ERROR(session.hsm->LoadKeys(false));
  session.anchor = std::make_unique<AuditAnchor>(session.hsm->pool(), MakeSealLocker(config));
  return session;
}

Result<AdminSession> AdminSession::Open(const CaConfig& config, std::string_view command) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession session, OpenToken(config));
  IMPRINT_RETURN_IF_ERROR(session.OpenDatabase(config, command));
  return session;
}

Status AdminSession::OpenDatabase(const CaConfig& config, std::string_view command) {
  IMPRINT_ASSIGN_OR_RETURN(db, OpenCaDatabase(config));
  IMPRINT_RETURN_IF_ERROR(VerifyBeforeWriting(*db, seal(config), command));
  return {};
}

}  // namespace imprint::ca
