#pragma once
// The operator's audit subcommands: `audit verify`, `audit export` and `audit anchor`. Read-only
// ones open the store read-only; none changes state but `AuditAnchorAdopt`.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "ca/config.h"
#include "common/error.h"

namespace imprint::ca {

struct AdminSession;

struct AuditSummary {
  uint64_t records = 0;
  uint64_t checkpoints = 0;
  uint64_t last_sealed = 0;
  uint64_t unsealed = 0;           // records after the last checkpoint (a stop before sealing)
  std::optional<uint64_t> anchor;  // the record the HSM anchor (or anchor file) seals
  bool anchor_one_behind = false;  // the anchor names the checkpoint before the newest
};
// Verifies the whole chain, the checkpoint chain and every signature with the audit key read
// from the token, and that the database agrees with the token's anchor; with `anchor_file`
// (from `audit anchor export`), also that the log contains that checkpoint. Opens nothing for
// writing. DATA_LOSS names the first bad sequence number and the reason.
Result<AuditSummary> AuditVerify(const CaConfig& config, const std::string& anchor_file = "");
// The same with the session of a command that already holds one: its token, and its store when
// it has one (AdminSession::OpenToken, OpenUnverified).
Result<AuditSummary> AuditVerify(const CaConfig& config, AdminSession& token,
                                 const std::string& anchor_file = "");
// The same rules over an export (JSON Lines) with the audit public key from a PEM file, for a
// third party without the token: no limit on the unsealed tail is known, so it is reported.
Result<AuditSummary> AuditVerifyExport(const std::string& export_path, const std::string& key_pem,
                                       const std::string& anchor_file = "");
// Writes the log as JSON Lines (docs/audit-format.md) to `out`.
Status AuditExport(const CaConfig& config, std::ostream& out);
// Writes the token's anchor (a checkpoint export line, its signature checked first) to
// `out_path`, to be kept off the machine. NOT_FOUND when the token holds none.
Status AuditAnchorExport(const CaConfig& config, const std::string& out_path);
// For an operator holding the PIN whose newest database is lost for good, or whose token was
// restored from an older copy: verifies the database in full from its genesis, then makes its
// newest checkpoint the anchor and seals an `audit.anchor_adopted` record naming the anchor it
// replaced. Does nothing when the database and the anchor agree. DATA_LOSS if the database
// does not verify on its own.
Status AuditAnchorAdopt(const CaConfig& config, std::ostream& out);

}  // namespace imprint::ca
