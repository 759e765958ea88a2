#pragma once
// The key ceremony, and the rules for stations, orders and devices (the audit log's commands
// are in ca/audit/commands.h). The ceremony makes the world, so it takes the config. The rules
// run on the caller's write (WriteContext: an admin command's AdminSession, opened once in
// ca/admin_cli.cc, or a serving CA's writer for the console), so every writer of the store,
// SQLite or PostgreSQL, holds its write lock; each change is audited. Implemented in
// admin_init.cc (the key ceremony) and admin_orders.cc (stations, orders, devices).

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ca/audit/write_context.h"
#include "ca/config.h"
#include "ca/matter/order.h"
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

// INVALID_ARGUMENT unless `name` is a valid station name (checked before anything is opened).
Status CheckStationName(const std::string& name);
// Registers a station whose one-time enrollment token hashes to `token_sha256` and expires
// `token_lifetime_ms` from now. ALREADY_EXISTS for a known name.
Status StationAdd(WriteContext& ctx, const std::string& name, ByteView token_sha256,
                  int64_t token_lifetime_ms);
// NOT_FOUND unless the station exists and is not revoked; its certificate goes on the next CRL.
Status StationRevoke(WriteContext& ctx, const std::string& name);

struct OrderSpec {
  std::string id;
  std::string product;
  int64_t quota = 0;
  std::vector<std::string> stations;
  std::optional<MatterOrderSpec> matter = std::nullopt;  // set: a Matter order (ca/matter)
  std::string attestation = "none";  // "tpm": devices prove their key is in a TPM
  // Every verified device needs a label bound by scan-back before the order closes
  // (docs/labels.md).
  bool require_labels = false;
};
// INVALID_ARGUMENT for a bad id, product, quota or an empty station list.
Status CheckOrderSpec(const OrderSpec& spec);
// ALREADY_EXISTS for a known order, NOT_FOUND for an unknown station.
Status OrderCreate(WriteContext& ctx, const OrderSpec& spec);
// Inside the caller's write transaction (an admin command's AdminSession, or a serving CA's
// writer for the console), audited with `actor`. NOT_FOUND unless the order exists and is open;
// FAILED_PRECONDITION, naming a few, while an order that requires labels has verified devices
// without a bound one.
Status CloseOrder(WriteContext& ctx, const std::string& id, const std::string& actor);

// Lets the line try a failed (or stuck in-progress) device again: status back to "issued",
// released from its station so any station on the order may take it. The certificate and the
// key it certifies stay: a device that now has another key needs rework (revocation). Audited
// as device.reset. FAILED_PRECONDITION for a verified device, NOT_FOUND for an unknown one.
Status DeviceReset(WriteContext& ctx, const std::string& device_id);

struct OrderStatus {
  std::string id, product;
  OrderState state = OrderState::kOpen;
  int64_t quota = 0, issued = 0, verified = 0, revoked = 0;
  int64_t reserved = 0;  // held by offline allowances (ca/allowance/allowance.h)
  std::vector<std::string> stations;
  bool require_labels = false;
  int64_t labels_bound = 0;  // verified devices whose label is bound (docs/labels.md)
};
// NOT_FOUND for an unknown order.
Result<OrderStatus> OrderShow(sql::Database& db, const std::string& id);

}  // namespace imprint::ca
