#pragma once
// The operator's subcommands: key ceremony, stations and orders (the audit log's are in
// ca/audit/commands.h). Each opens one AdminSession (the store once, the token once), so it
// runs safely beside serving CA nodes: every writer of the store, SQLite or PostgreSQL, takes
// its write lock (sql::Database::Lock::kWrite). Every change is audited and each command
// leaves the log sealed with a checkpoint. Implemented in admin_init.cc (the key ceremony) and
// admin_orders.cc (stations, orders, devices).

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "ca/audit/write_context.h"
#include "ca/config.h"
#include "ca/states.h"
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
// Inside the caller's write transaction (an admin command's AdminSession, or a serving CA's
// writer for the console), audited with `actor`. NOT_FOUND unless the order exists and is open.
Status CloseOrder(WriteContext& ctx, const std::string& id, const std::string& actor);

// Lets the line try a failed (or stuck in-progress) device again: status back to "issued",
// released from its station so any station on the order may take it. The certificate and the
// key it certifies stay: a device that now has another key needs rework (revocation). Audited
// as device.reset. FAILED_PRECONDITION for a verified device, NOT_FOUND for an unknown one.
Status DeviceReset(const CaConfig& config, const std::string& device_id);

struct OrderStatus {
  std::string id, product;
  OrderState state = OrderState::kOpen;
  int64_t quota = 0, issued = 0, verified = 0, revoked = 0;
  std::vector<std::string> stations;
};
Result<OrderStatus> OrderShow(const CaConfig& config, const std::string& id);
// The same on the store a command already holds.
Result<OrderStatus> OrderShow(sql::Database& db, const std::string& id);

}  // namespace imprint::ca
