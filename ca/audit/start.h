#pragma once
// VerifyBeforeWriting: what `serve` does at start and every writing admin command does before
// it writes (docs/audit-format.md, "Anchor"). Under the seal lock it compares the database's
// newest checkpoint with the HSM anchor and verifies every record after it. A failure is kept in
// the token (the database may be the wrong one, so it cannot be audited there) and returned as
// DATA_LOSS; the first later start that finds a good state writes each kept refusal as an
// `audit.refused` record. When the log has an unsealed tail (a crash), a one-behind anchor or
// refusals waiting, it then seals, so a healthy CA that was killed starts sealed.

#include <string_view>

#include "ca/audit/seal.h"
#include "common/sql/database.h"

namespace imprint::ca {

struct StartCheck {
  uint64_t head = 0;        // the last record
  uint64_t unsealed = 0;    // records that were after the newest checkpoint (now sealed)
  size_t kept_audited = 0;  // events kept in the token, now in the log
};

// `command` names the caller in the refusal ("serve", "order create").
Result<StartCheck> VerifyBeforeWriting(sql::Database& db, const SealPolicy& seal,
                                       std::string_view command);

}  // namespace imprint::ca
