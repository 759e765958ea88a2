#pragma once
// The operator's subcommands: key ceremony, stations, orders and the audit log. Each opens
// the token and the database itself, so they run safely beside a serving CA (SQLite WAL and
// IMMEDIATE transactions serialise the writers). Every change is audited and each command
// leaves the log sealed with a checkpoint.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ca/config.h"
#include "ca/write_context.h"
#include "common/error.h"

namespace imprint::ca {

// Creates the keys in the token, the certificates and the database (see docs/operations.md).
// FAILED_PRECONDITION if any state exists already. With `external_root`, writes
// state_dir/issuing.csr for an offline root instead of creating a root.
Status Init(const CaConfig& config, bool external_root, std::ostream& out);

// Installs the issuing certificate an offline root signed (and that root), completing an
// external-root init.
Status ImportChain(const CaConfig& config, const std::string& issuing_pem_path,
                   const std::string& root_pem_path, std::ostream& out);

// Registers a station and returns its one-time enrollment token.
Result<std::string> StationAdd(const CaConfig& config, const std::string& name);
Status StationRevoke(const CaConfig& config, const std::string& name);

struct OrderSpec {
  std::string id;
  std::string product;
  int64_t quota = 0;
  std::vector<std::string> stations;
};
Status OrderCreate(const CaConfig& config, const OrderSpec& spec);
Status OrderClose(const CaConfig& config, const std::string& id);
// The same inside a write transaction the caller runs (a serving CA's writer, for the console),
// audited with `actor`. NOT_FOUND unless the order exists and is open.
Status CloseOrderIn(WriteContext& ctx, const std::string& id, const std::string& actor);

// Lets the line try a failed (or stuck in-progress) device again: status back to "issued",
// released from its station so any station on the order may take it. The certificate and the
// key it certifies stay: a device that now has another key needs rework (revocation). Audited
// as device.reset. FAILED_PRECONDITION for a verified device, NOT_FOUND for an unknown one.
Status DeviceReset(const CaConfig& config, const std::string& device_id);

struct OrderStatus {
  std::string id, product, status;
  int64_t quota = 0, issued = 0, verified = 0, revoked = 0;
  std::vector<std::string> stations;
};
Result<OrderStatus> OrderShow(const CaConfig& config, const std::string& id);

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
// The same with the token session of a command that already holds one (AdminSession::OpenToken).
struct AdminSession;
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
