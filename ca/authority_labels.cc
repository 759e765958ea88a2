// Scan-back: a label bound to the unit it is stuck on (docs/labels.md).

#include "ca/authority.h"
#include "ca/states.h"
#include "common/identifier.h"
#include "common/label_code.h"

namespace imprint::ca {

Result<LabelBinding> Authority::BindLabel(const std::string& station, const std::string& order,
                                          const std::string& device, const std::string& code,
                                          uint32_t prints) {
  if (!IsValidIdentifier(order) || !IsValidIdentifier(device)) {
    return Fail(Code::kInvalidArgument, "invalid order_id or device_id");
  }
  // Never echoed: a scanner pointed at the wrong code may have read a secret.
  if (!IsLabelCode(code)) return Fail(Code::kInvalidArgument, "not a label code");
  LabelBinding binding;
  std::string refusal;
  IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
    refusal.clear();
    binding = {};
    IMPRINT_ASSIGN_OR_RETURN(
        auto allowed,
        ctx.db().Prepare("SELECT o.status FROM orders o JOIN order_stations s ON s.order_id = "
                         "o.id WHERE o.id = ? AND s.station = ?"));
    allowed.BindAll(order, station);
    IMPRINT_ASSIGN_OR_RETURN(bool on_order, allowed.Step());
    if (!on_order) return Fail(Code::kPermissionDenied, "station not allowed on this order");
    IMPRINT_ASSIGN_OR_RETURN(OrderState order_state, ParseOrderState(allowed.ColumnText(0)));
    if (order_state != OrderState::kOpen) return Fail(Code::kFailedPrecondition, "order is closed");
    IMPRINT_ASSIGN_OR_RETURN(
        auto row, ctx.db().Prepare("SELECT status, certificate_der, serial_hex, label_code, "
                                   "COALESCE(label_audit_seq, 0) FROM devices WHERE "
                                   "device_id = ? AND order_id = ?"));
    row.BindAll(device, order);
    IMPRINT_ASSIGN_OR_RETURN(bool found, row.Step());
    std::string serial;
    if (!found) {
      refusal = "no device " + device + " on order " + order;
    } else {
      serial = row.ColumnText(2);
      IMPRINT_ASSIGN_OR_RETURN(DeviceState state, ParseDeviceState(row.ColumnText(0)));
      if (state != DeviceState::kVerified) {
        refusal = "device " + device + " is " + std::string(Name(state)) + ", not verified";
      } else if (LabelCode(row.ColumnBlob(1)) != code) {
        refusal = "label " + code + " is not device " + device + "'s";
      } else if (!row.ColumnIsNull(3) && row.ColumnText(3) == code) {
        binding = {static_cast<uint64_t>(row.ColumnInt64(4)), true};
        return {};
      }
    }
    nlohmann::json detail = {{"order", order},
                             {"device", device},
                             {"label_code", code},
                             {"station", station},
                             {"prints", prints}};
    if (!refusal.empty()) {
      detail["reason"] = refusal;
      IMPRINT_ASSIGN_OR_RETURN(binding.audit_seq,
                               ctx.Audit("station:" + station, "label.refused", detail));
      return {};
    }
    detail["serial"] = serial;
    IMPRINT_ASSIGN_OR_RETURN(binding.audit_seq,
                             ctx.Audit("station:" + station, "label.bound", detail));
    IMPRINT_ASSIGN_OR_RETURN(
        auto update,
        ctx.db().Prepare("UPDATE devices SET label_code = ?, label_bound_ms = ?, label_station = "
                         "?, label_audit_seq = ? WHERE device_id = ?"));
    update.BindAll(code, ctx.now_ms(), station, static_cast<int64_t>(binding.audit_seq), device);
    return update.Run();
  }));
  if (!refusal.empty()) return Fail(Code::kFailedPrecondition, refusal);
  return binding;
}

}  // namespace imprint::ca
