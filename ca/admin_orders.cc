// Stations and production orders.

#include "ca/admin.h"
#include "ca/revocation/revocation.h"
#include "common/identifier.h"

namespace imprint::ca {
namespace {

Result<bool> Exists(sql::Database& db, const char* sql, const std::string& key) {
  IMPRINT_ASSIGN_OR_RETURN(auto stmt, db.Prepare(sql));
  stmt.BindAll(key);
  return stmt.Step();
}

}  // namespace

Status CheckStationName(const std::string& name) {
  if (!IsValidIdentifier(name)) {
    return Fail(Code::kInvalidArgument, "station name must be 1-64 of A-Z a-z 0-9 . _ : -");
  }
  return {};
}

Status StationAdd(WriteContext& ctx, const std::string& name, ByteView token_sha256,
                  int64_t token_lifetime_ms) {
  IMPRINT_RETURN_IF_ERROR(CheckStationName(name));
  IMPRINT_ASSIGN_OR_RETURN(bool taken,
                           Exists(ctx.db(), "SELECT 1 FROM stations WHERE name = ?", name));
  if (taken) return Fail(Code::kAlreadyExists, "station " + name + " already exists");
  int64_t expires = ctx.now_ms() + token_lifetime_ms;
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      ctx.db().Prepare("INSERT INTO stations (name, status, token_sha256, "
                       "token_expires_ms, created_ms) VALUES (?, 'pending', ?, ?, ?)"));
  insert.BindAll(name, Bytes(token_sha256.begin(), token_sha256.end()), expires, ctx.now_ms());
  IMPRINT_RETURN_IF_ERROR(insert.Run());
  IMPRINT_RETURN_IF_ERROR(
      ctx.Audit("admin", "station.added", {{"station", name}, {"token_expires_ms", expires}}));
  return {};
}

Status StationRevoke(WriteContext& ctx, const std::string& name) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto update,
      ctx.db().Prepare(
          "UPDATE stations SET status = 'revoked', token_sha256 = NULL, revoked_ms = ? "
          "WHERE name = ? AND status != 'revoked'"));
  update.BindAll(ctx.now_ms(), name);
  IMPRINT_RETURN_IF_ERROR(update.Run());
  if (ctx.db().Changes() == 0) return Fail(Code::kNotFound, "no active station " + name);
  IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "station.revoked", {{"station", name}}));
  return MarkCrlStale(ctx.db());  // its certificate goes on the CRL
}

Status CheckOrderSpec(const OrderSpec& spec) {
  if (!IsValidIdentifier(spec.id) || !IsValidIdentifier(spec.product)) {
    return Fail(Code::kInvalidArgument, "order id and product must be 1-64 of A-Z a-z 0-9 . _ : -");
  }
  if (spec.quota <= 0) return Fail(Code::kInvalidArgument, "quota must be positive");
  if (spec.stations.empty()) return Fail(Code::kInvalidArgument, "an order needs a station");
  if (spec.attestation != "none" && spec.attestation != "tpm") {
    return Fail(Code::kInvalidArgument, "--attestation must be none or tpm");
  }
  if (spec.attestation == "tpm" && spec.matter) {
    return Fail(Code::kInvalidArgument,
                "a Matter order's devices attest with their DAC, not --attestation tpm");
  }
  return {};
}

Status OrderCreate(WriteContext& ctx, const OrderSpec& spec) {
  IMPRINT_RETURN_IF_ERROR(CheckOrderSpec(spec));
  IMPRINT_ASSIGN_OR_RETURN(bool taken,
                           Exists(ctx.db(), "SELECT 1 FROM orders WHERE id = ?", spec.id));
  if (taken) return Fail(Code::kAlreadyExists, "order " + spec.id + " already exists");
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      ctx.db().Prepare("INSERT INTO orders (id, product, quota, status, created_ms, attestation, "
                       "require_labels) VALUES (?, ?, ?, 'open', ?, ?, ?)"));
  insert.BindAll(spec.id, spec.product, spec.quota, ctx.now_ms(), spec.attestation,
                 static_cast<int64_t>(spec.require_labels ? 1 : 0));
  IMPRINT_RETURN_IF_ERROR(insert.Run());
  for (const auto& station : spec.stations) {
    IMPRINT_ASSIGN_OR_RETURN(bool known,
                             Exists(ctx.db(), "SELECT 1 FROM stations WHERE name = ?", station));
    if (!known) return Fail(Code::kNotFound, "unknown station " + station);
    IMPRINT_ASSIGN_OR_RETURN(auto link,
                             ctx.db().Prepare("INSERT INTO order_stations (order_id, station) "
                                              "VALUES (?, ?) ON CONFLICT DO NOTHING"));
    link.BindAll(spec.id, station);
    IMPRINT_RETURN_IF_ERROR(link.Run());
  }
  IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "order.created",
                                    {{"order", spec.id},
                                     {"product", spec.product},
                                     {"quota", spec.quota},
                                     {"stations", spec.stations},
                                     {"attestation", spec.attestation},
                                     {"require_labels", spec.require_labels}}));
  if (spec.matter) return RecordMatterOrder(ctx, spec.id, *spec.matter);
  return {};
}

// An order that requires labels closes only once every verified device has one bound.
Status CheckLabelsBound(sql::Database& db, const std::string& id) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto unbound,
      db.Prepare("SELECT d.device_id FROM orders o JOIN devices d ON d.order_id = o.id WHERE "
                 "o.id = ? AND o.require_labels = 1 AND d.status = 'verified' AND "
                 "d.label_bound_ms IS NULL ORDER BY d.device_id"));
  unbound.BindAll(id);
  std::string first;
  int64_t count = 0;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, unbound.Step());
    if (!row) break;
    if (++count <= 3) first += (first.empty() ? "" : ", ") + unbound.ColumnText(0);
  }
  if (count == 0) return {};
  return Fail(Code::kFailedPrecondition,
              "order " + id + " requires bound labels: " + std::to_string(count) +
                  " verified device" + (count == 1 ? " has" : "s have") + " none (" + first +
                  (count > 3 ? ", ..." : "") + "); bind them with `imprint-station label bind`");
}

Status CloseOrder(WriteContext& ctx, const std::string& id, const std::string& actor) {
  IMPRINT_RETURN_IF_ERROR(CheckLabelsBound(ctx.db(), id));
  IMPRINT_ASSIGN_OR_RETURN(
      auto update,
      ctx.db().Prepare(
          "UPDATE orders SET status = 'closed', closed_ms = ? WHERE id = ? AND status = 'open'"));
  update.BindAll(ctx.now_ms(), id);
  IMPRINT_RETURN_IF_ERROR(update.Run());
  if (ctx.db().Changes() == 0) return Fail(Code::kNotFound, "no open order " + id);
  IMPRINT_RETURN_IF_ERROR(ctx.Audit(actor, "order.closed", {{"order", id}}));
  return {};
}

Status DeviceReset(WriteContext& ctx, const std::string& device_id) {
  if (!IsValidIdentifier(device_id)) return Fail(Code::kInvalidArgument, "invalid device id");
  IMPRINT_ASSIGN_OR_RETURN(
      auto row,
      ctx.db().Prepare(
          "SELECT order_id, status, station, serial_hex FROM devices WHERE device_id = ?"));
  row.BindAll(device_id);
  IMPRINT_ASSIGN_OR_RETURN(bool found, row.Step());
  if (!found) return Fail(Code::kNotFound, "no device " + device_id);
  std::string status = row.ColumnText(1);
  IMPRINT_ASSIGN_OR_RETURN(DeviceState state, ParseDeviceState(status));
  if (state == DeviceState::kVerified) {
    return Fail(Code::kFailedPrecondition,
                "device " + device_id + " is verified; a device back from the field needs rework");
  }
  nlohmann::json detail = {{"device", device_id},
                           {"order", row.ColumnText(0)},
                           {"serial", row.ColumnText(3)},
                           {"was", status},
                           {"station", row.ColumnText(2)}};
  IMPRINT_ASSIGN_OR_RETURN(
      auto update,
      ctx.db().Prepare("UPDATE devices SET status = ?, station = '', reported_ms = NULL, "
                       "report_audit_seq = NULL WHERE device_id = ?"));
  update.BindAll(Name(DeviceState::kIssued), device_id);
  IMPRINT_RETURN_IF_ERROR(update.Run());
  IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "device.reset", detail));
  return {};
}

Result<OrderStatus> OrderShow(sql::Database& db, const std::string& id) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare(
          "SELECT product, status, quota, issued, verified, (SELECT COUNT(*) FROM revocations r "
          "WHERE r.order_id = o.id), reserved, require_labels, (SELECT COUNT(*) FROM devices d "
          "WHERE d.order_id = o.id AND d.status = 'verified' AND d.label_bound_ms IS NOT NULL) "
          "FROM orders o WHERE id = ?"));
  stmt.BindAll(id);
  IMPRINT_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return Fail(Code::kNotFound, "unknown order " + id);
  OrderStatus out;
  out.id = id;
  out.product = stmt.ColumnText(0);
  IMPRINT_ASSIGN_OR_RETURN(out.state, ParseOrderState(stmt.ColumnText(1)));
  out.quota = stmt.ColumnInt64(2);
  out.issued = stmt.ColumnInt64(3);
  out.verified = stmt.ColumnInt64(4);
  out.revoked = stmt.ColumnInt64(5);
  out.reserved = stmt.ColumnInt64(6);
  out.require_labels = stmt.ColumnInt64(7) != 0;
  out.labels_bound = stmt.ColumnInt64(8);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stations,
      db.Prepare("SELECT station FROM order_stations WHERE order_id = ? ORDER BY station"));
  stations.BindAll(id);
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, stations.Step());
    if (!row) break;
    out.stations.push_back(stations.ColumnText(0));
  }
  return out;
}

}  // namespace imprint::ca
