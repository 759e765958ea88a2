#include "ca/handover/export_rows.h"

namespace imprint::ca {

Result<std::vector<ExportDevice>> OrderDevices::Next() {
  std::vector<ExportDevice> page;
  if (done_) return page;
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare(
          "SELECT d.device_id, d.station, d.serial_hex, d.status, d.certificate_der, d.issued_ms, "
          "d.reported_ms, r.reason, r.revoked_ms, d.label_code, d.label_bound_ms FROM devices d "
          "LEFT JOIN revocations r ON r.serial_hex = d.serial_hex "
          "WHERE d.order_id = ? AND d.device_id > ? ORDER BY d.device_id LIMIT ?"));
  stmt.BindAll(order_id_, after_, static_cast<int64_t>(page_size_));
  page.reserve(static_cast<size_t>(page_size_));
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ExportDevice d;
    d.device_id = stmt.ColumnText(0);
    d.station = stmt.ColumnText(1);
    d.serial_hex = stmt.ColumnText(2);
    IMPRINT_ASSIGN_OR_RETURN(DeviceState stored, ParseDeviceState(stmt.ColumnText(3)));
    d.status = ShownState(stored, !stmt.ColumnIsNull(7));
    d.certificate_der = stmt.ColumnBlob(4);
    d.issued_ms = stmt.ColumnInt64(5);
    if (!stmt.ColumnIsNull(6)) d.reported_ms = stmt.ColumnInt64(6);
    if (!stmt.ColumnIsNull(7)) {
      d.revocation_reason = stmt.ColumnText(7);
      d.revoked_ms = stmt.ColumnInt64(8);
    }
    if (!stmt.ColumnIsNull(10)) {
      d.label_code = stmt.ColumnText(9);
      d.label_bound_ms = stmt.ColumnInt64(10);
    }
    page.push_back(std::move(d));
  }
  if (page.size() < static_cast<size_t>(page_size_)) done_ = true;
  if (!page.empty()) after_ = page.back().device_id;
  return page;
}

Status OrderDevices::ForEachPage(const std::function<Status(const std::vector<ExportDevice>&)>& f) {
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(auto page, Next());
    if (page.empty()) return {};
    IMPRINT_RETURN_IF_ERROR(f(page));
  }
}

Status OrderDevices::ForEach(const std::function<Status(const ExportDevice&)>& f) {
  return ForEachPage([&](const std::vector<ExportDevice>& page) -> Status {
    for (const ExportDevice& d : page) IMPRINT_RETURN_IF_ERROR(f(d));
    return {};
  });
}

}  // namespace imprint::ca
