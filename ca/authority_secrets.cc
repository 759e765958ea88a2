// Per-device secrets and the provisioning report.

#include <openssl/crypto.h>

#include "ca/authority.h"
#include "ca/secret_generator.h"
#include "common/log.h"

namespace imprint::ca {
namespace {

constexpr const char* kPasswordName = "default_password";
constexpr size_t kMaxDetailBytes = 512;

struct DeviceState {
  bool found = false;
  std::string serial_hex;
  std::string status;
  int64_t report_audit_seq = 0;
};

// The device's row if it was issued under `order`, plus whether `station` is on that order.
Result<DeviceState> LoadDevice(sql::Database& db, const std::string& order,
                               const std::string& device, const std::string& station,
                               bool* station_allowed) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto allowed, db.Prepare("SELECT 1 FROM order_stations WHERE order_id = ? AND station = ?"));
  allowed.BindAll(order, station);
  IMPRINT_ASSIGN_OR_RETURN(*station_allowed, allowed.Step());
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare("SELECT serial_hex, status, coalesce(report_audit_seq, 0) FROM devices "
                            "WHERE device_id = ? AND order_id = ?"));
  stmt.BindAll(device, order);
  DeviceState state;
  IMPRINT_ASSIGN_OR_RETURN(state.found, stmt.Step());
  if (state.found) {
    state.serial_hex = stmt.ColumnText(0);
    state.status = stmt.ColumnText(1);
    state.report_audit_seq = stmt.ColumnInt64(2);
  }
  return state;
}

Status CheckSecretsAllowed(const DeviceState& d, bool station_allowed) {
  if (!station_allowed) return Fail(Code::kPermissionDenied, "station not allowed on this order");
  if (!d.found) return Fail(Code::kNotFound, "no certificate issued for this device on this order");
  if (d.status == "verified") {
    return Fail(Code::kFailedPrecondition, "device already reported provisioned");
  }
  return {};
}

}  // namespace

Result<SecretsResult> Authority::IssueDeviceSecrets(const std::string& station,
                                                    const std::string& order,
                                                    const std::string& device) {
  if (!IsValidIdentifier(order) || !IsValidIdentifier(device)) {
    return Fail(Code::kInvalidArgument, "invalid order_id or device_id");
  }
  {
    auto db = reads_.Acquire();
    bool allowed = false;
    IMPRINT_ASSIGN_OR_RETURN(DeviceState d, LoadDevice(*db, order, device, station, &allowed));
    IMPRINT_RETURN_IF_ERROR(CheckSecretsAllowed(d, allowed));
  }
  // EN 303 645 5.1-2: drawn from the HSM's generator, unrelated to serial or MAC.
  auto random = [this](size_t n) { return hsm_.Random(n); };
  auto password = DrawPassword(random, config_.password_length);
  if (!password) {
    LogWarning("secret generation failed: " + password.error().message());
    return Fail(Code::kUnavailable, "secret generator unavailable, retry");
  }
  auto verifier = hsm_.verifier().Mac(VerifierMessage(device, kPasswordName, password->Reveal()));
  if (!verifier) {
    LogWarning("secret verifier failed: " + verifier.error().message());
    return Fail(Code::kUnavailable, "secret verifier unavailable, retry");
  }

  SecretsResult result;
  IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
    bool allowed = false;
    IMPRINT_ASSIGN_OR_RETURN(DeviceState d, LoadDevice(ctx.db(), order, device, station, &allowed));
    IMPRINT_RETURN_IF_ERROR(CheckSecretsAllowed(d, allowed));
    IMPRINT_ASSIGN_OR_RETURN(
        auto upsert,
        ctx.db().Prepare("INSERT INTO secret_verifiers (device_id, name, verifier, generation, "
                         "issued_ms) VALUES (?, ?, ?, 1, ?) ON CONFLICT (device_id, name) DO "
                         "UPDATE SET verifier = excluded.verifier, generation = generation + 1, "
                         "issued_ms = excluded.issued_ms RETURNING generation"));
    upsert.BindAll(device, kPasswordName, *verifier, ctx.now_ms());
    IMPRINT_ASSIGN_OR_RETURN(bool row, upsert.Step());
    int64_t generation = row ? upsert.ColumnInt64(0) : 1;
    IMPRINT_RETURN_IF_ERROR(upsert.Run());
    IMPRINT_ASSIGN_OR_RETURN(
        result.audit_seq,
        ctx.Audit("station:" + station, generation == 1 ? "secrets.issued" : "secrets.replaced",
                  {{"order", order}, {"device", device}, {"names", {kPasswordName}},
                   {"generation", generation}}));
    return {};
  }));
  result.secrets.push_back({kPasswordName, std::move(*password)});
  return result;
}

Result<uint64_t> Authority::ReportProvisioned(const std::string& station,
                                              const ReportRequest& r) {
  if (!IsValidIdentifier(r.order_id) || !IsValidIdentifier(r.device_id)) {
    return Fail(Code::kInvalidArgument, "invalid order_id or device_id");
  }
  std::string detail = r.detail.substr(0, kMaxDetailBytes);
  uint64_t seq = 0;
  IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
    bool allowed = false;
    IMPRINT_ASSIGN_OR_RETURN(DeviceState d,
                             LoadDevice(ctx.db(), r.order_id, r.device_id, station, &allowed));
    if (!allowed) return Fail(Code::kPermissionDenied, "station not allowed on this order");
    if (!d.found) return Fail(Code::kNotFound, "no certificate issued for this device on this order");
    if (d.serial_hex != r.serial_hex) {
      return Fail(Code::kInvalidArgument, "serial does not match the issued certificate");
    }
    if (d.status == "verified") {
      if (!r.verified) return Fail(Code::kFailedPrecondition, "device already reported provisioned");
      seq = static_cast<uint64_t>(d.report_audit_seq);  // a repeated report changes nothing
      return {};
    }
    IMPRINT_ASSIGN_OR_RETURN(
        seq, ctx.Audit("station:" + station, r.verified ? "device.verified" : "device.failed",
                       {{"order", r.order_id}, {"device", r.device_id},
                        {"serial", r.serial_hex}, {"detail", detail}}));
    IMPRINT_ASSIGN_OR_RETURN(
        auto update, ctx.db().Prepare("UPDATE devices SET status = ?, reported_ms = ?, "
                                      "report_audit_seq = ? WHERE device_id = ?"));
    update.BindAll(r.verified ? "verified" : "failed", ctx.now_ms(), static_cast<int64_t>(seq),
                   r.device_id);
    IMPRINT_RETURN_IF_ERROR(update.Run());
    if (r.verified) {
      IMPRINT_ASSIGN_OR_RETURN(
          auto count, ctx.db().Prepare("UPDATE orders SET verified = verified + 1 WHERE id = ?"));
      count.BindAll(r.order_id);
      IMPRINT_RETURN_IF_ERROR(count.Run());
    }
    return {};
  }));
  return seq;
}

}  // namespace imprint::ca
