#pragma once
// The operator's subcommands: key ceremony, stations, orders and the audit log. Each opens
// the token and the database itself, so they run safely beside a serving CA (SQLite WAL and
// IMMEDIATE transactions serialise the writers). Every change is audited and each command
// leaves the log sealed with a checkpoint.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "ca/config.h"
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

struct OrderStatus {
  std::string id, product, status;
  int64_t quota = 0, issued = 0, verified = 0;
  std::vector<std::string> stations;
};
Result<OrderStatus> OrderShow(const CaConfig& config, const std::string& id);

struct AuditSummary {
  uint64_t records = 0;
  uint64_t checkpoints = 0;
  uint64_t last_sealed = 0;
};
// Verifies the whole chain and every checkpoint with the audit key read from the token.
// DATA_LOSS names the first bad sequence number.
Result<AuditSummary> AuditVerify(const CaConfig& config);
// Writes the log as JSON Lines (docs/audit-format.md) to `out`.
Status AuditExport(const CaConfig& config, std::ostream& out);

}  // namespace imprint::ca
