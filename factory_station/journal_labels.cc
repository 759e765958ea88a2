// The label half of the station's journal (factory_station/journal.h).
#include "common/label_code.h"
#include "common/utc_time.h"
#include "factory_station/journal.h"

namespace imprint::station {
namespace {

constexpr const char* kLabelColumns =
    "SELECT l.device_id, l.label_code, l.state, l.prints, l.bound_ms IS NOT NULL, "
    "COALESCE(d.outcome = 'provisioned', 0) FROM labels l LEFT JOIN devices d ON "
    "d.order_id = l.order_id AND d.device_id = l.device_id ";

LabelRow ReadLabel(sql::Statement& stmt) {
  return LabelRow{stmt.ColumnText(0),       stmt.ColumnText(1),
                  stmt.ColumnText(2),       static_cast<int>(stmt.ColumnInt64(3)),
                  stmt.ColumnInt64(4) != 0, stmt.ColumnInt64(5) != 0};
}

}  // namespace

Status Journal::LabelFor(const std::string& order, const std::string& device,
                         ByteView certificate_der, bool printing) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("INSERT INTO labels (order_id, device_id, label_code, state) VALUES (?, ?, ?, "
                   "?) ON CONFLICT (order_id, device_id) DO UPDATE SET label_code = "
                   "excluded.label_code, state = excluded.state, prints = 0, printed_ms = NULL, "
                   "bound_ms = NULL WHERE labels.label_code != excluded.label_code"));
  stmt.BindAll(order, device, LabelCode(certificate_der), printing ? "waiting" : "external");
  return stmt.Run();
}

Result<std::optional<LabelRow>> Journal::Label(const std::string& order,
                                               const std::string& device) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string(kLabelColumns) +
                                                   "WHERE l.order_id = ? AND l.device_id = ?"));
  stmt.BindAll(order, device);
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<LabelRow>();
  return std::optional<LabelRow>(ReadLabel(stmt));
}

Result<std::vector<LabelRow>> Journal::Labels(const std::string& order) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string(kLabelColumns) +
                                                   "WHERE l.order_id = ? ORDER BY l.device_id"));
  stmt.BindAll(order);
  std::vector<LabelRow> out;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(ReadLabel(stmt));
  }
  return out;
}

Result<std::optional<std::string>> Journal::LabelOwner(const std::string& order,
                                                       const std::string& code) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("SELECT device_id FROM labels WHERE order_id = ? AND label_code = ?"));
  stmt.BindAll(order, code);
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.ColumnText(0));
}

Status Journal::LabelState(const std::string& order, const std::string& device,
                           const std::string& state, int prints) {
  {
    std::lock_guard lock(mu_);
    IMPRINT_ASSIGN_OR_RETURN(
        auto stmt,
        db_->Prepare("UPDATE labels SET state = ?, prints = ?, printed_ms = CASE WHEN ? = "
                     "'printed' THEN ? ELSE printed_ms END WHERE order_id = ? AND device_id = ?"));
    stmt.BindAll(state, static_cast<int64_t>(prints), state, NowMs(), order, device);
    IMPRINT_RETURN_IF_ERROR(stmt.Run());
  }
  if (state == "sending") NotifyStep("label-sending");
  if (state == "printed") NotifyStep("label-printed");
  return {};
}

Status Journal::LabelBound(const std::string& order, const std::string& device) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto stmt,
                           db_->Prepare("UPDATE labels SET bound_ms = COALESCE(bound_ms, ?) WHERE "
                                        "order_id = ? AND device_id = ?"));
  stmt.BindAll(NowMs(), order, device);
  return stmt.Run();
}

Status Journal::LabelEvent(const std::string& order, const std::string& device,
                           const std::string& event, const std::string& detail) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("INSERT INTO label_events (order_id, device_id, event, detail, "
                              "time_ms) VALUES (?, ?, ?, ?, ?)"));
  stmt.BindAll(order, device, event, detail, NowMs());
  return stmt.Run();
}

}  // namespace imprint::station
