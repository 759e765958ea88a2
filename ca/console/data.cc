#include "ca/console/data.h"

#include "ca/states.h"

namespace imprint::ca {
namespace {

// The newest failures of the window, found through the audit log's (event, time) index: a poll
// costs the same however long the log is, and no flood of other records hides one.
constexpr int kMaxFailures = 50;

nlohmann::json ParseDetail(const std::string& text) {
  auto detail = nlohmann::json::parse(text, nullptr, false);
  return detail.is_discarded() ? nlohmann::json(text) : detail;
}

}  // namespace

Result<nlohmann::json> LineNow(sql::Database& db, int64_t now_ms) {
  int64_t since = now_ms - kLineWindowMs;
  size_t buckets = static_cast<size_t>(kLineWindowMs / kLineBucketMs);
  nlohmann::json stations = nlohmann::json::object();
  IMPRINT_ASSIGN_OR_RETURN(
      auto issued,
      db.Prepare("SELECT station, (issued_ms - ?) / ?, COUNT(*) FROM devices WHERE issued_ms > ? "
                 "GROUP BY 1, 2"));
  issued.BindAll(since, kLineBucketMs, since);
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, issued.Step());
    if (!row) break;
    std::string station = issued.ColumnText(0);
    if (station.empty()) station = "(reset)";
    if (!stations.contains(station)) stations[station] = std::vector<int64_t>(buckets, 0);
    int64_t bucket = issued.ColumnInt64(1);
    if (bucket >= 0 && static_cast<size_t>(bucket) < buckets) {
      stations[station][static_cast<size_t>(bucket)] = issued.ColumnInt64(2);
    }
  }
  nlohmann::json failures = nlohmann::json::array();
  IMPRINT_ASSIGN_OR_RETURN(
      auto audit,
      db.Prepare(
          "SELECT seq, time_ms, actor, event, detail FROM audit_log WHERE time_ms > ? AND event IN "
          "('device.failed', 'order.quota_exhausted', 'auth.denied', 'certificate.duplicate_key', "
          "'certificate.device_conflict') ORDER BY seq DESC LIMIT ?"));
  audit.BindAll(since, static_cast<int64_t>(kMaxFailures));
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, audit.Step());
    if (!row) break;
    nlohmann::json detail = ParseDetail(audit.ColumnText(4));
    std::string actor = audit.ColumnText(2);
    failures.push_back(
        {{"seq", audit.ColumnInt64(0)},
         {"time_ms", audit.ColumnInt64(1)},
         {"station", actor.starts_with("station:") ? actor.substr(8) : actor},
         {"event", audit.ColumnText(3)},
         {"device", detail.is_object() ? detail.value("device", "") : ""},
         {"order", detail.is_object() ? detail.value("order", "") : ""},
         {"reason", detail.is_object() && detail.contains("detail") ? detail["detail"]
                    : detail.is_object() && detail.contains("reason")
                        ? detail["reason"]
                        : nlohmann::json(audit.ColumnText(3))}});
  }
  return nlohmann::json{{"now_ms", now_ms},
                        {"window_ms", kLineWindowMs},
                        {"bucket_ms", kLineBucketMs},
                        {"stations", stations},
                        {"failures", failures}};
}

namespace {

// Every order, or only `only` when it is given (an order's own page must not count the failed
// devices of every other order on each poll).
Result<nlohmann::json> SelectOrders(sql::Database& db, const std::string* only) {
  nlohmann::json orders = nlohmann::json::array();
  std::string where = only ? " WHERE o.id = ?" : "";
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare(
          "SELECT o.id, o.product, o.status, o.quota, o.issued, o.verified, "
          "(SELECT COUNT(*) FROM devices d WHERE d.order_id = o.id AND d.status = 'failed'), "
          "(SELECT COUNT(*) FROM revocations r WHERE r.order_id = o.id), o.created_ms, "
          "o.reserved "
          "FROM orders o" +
          where + " ORDER BY o.created_ms DESC, o.id"));
  IMPRINT_ASSIGN_OR_RETURN(
      auto stations,
      db.Prepare("SELECT order_id, station FROM order_stations" +
                 std::string(only ? " WHERE order_id = ?" : "") + " ORDER BY order_id, station"));
  if (only) {
    stmt.BindAll(*only);
    stations.BindAll(*only);
  }
  std::map<std::string, std::vector<std::string>> by_order;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, stations.Step());
    if (!row) break;
    by_order[stations.ColumnText(0)].push_back(stations.ColumnText(1));
  }
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string id = stmt.ColumnText(0);
    orders.push_back({{"id", id},
                      {"product", stmt.ColumnText(1)},
                      {"status", stmt.ColumnText(2)},
                      {"quota", stmt.ColumnInt64(3)},
                      {"issued", stmt.ColumnInt64(4)},
                      {"verified", stmt.ColumnInt64(5)},
                      {"failed", stmt.ColumnInt64(6)},
                      {"revoked", stmt.ColumnInt64(7)},
                      {"created_ms", stmt.ColumnInt64(8)},
                      {"reserved", stmt.ColumnInt64(9)},
                      {"stations", by_order[id]}});
  }
  return orders;
}

}  // namespace

Result<nlohmann::json> OrdersJson(sql::Database& db) { return SelectOrders(db, nullptr); }

Result<nlohmann::json> OrderJson(sql::Database& db, const std::string& id,
                                 const std::string& prefix, int limit) {
  IMPRINT_ASSIGN_OR_RETURN(nlohmann::json found, SelectOrders(db, &id));
  if (found.empty()) return Fail(Code::kNotFound, "unknown order");
  nlohmann::json order = std::move(found[0]);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare(
          "SELECT d.device_id, d.station, d.serial_hex, d.status, d.issued_ms, d.reported_ms, "
          "r.reason, d.label_code FROM devices d LEFT JOIN revocations r ON r.serial_hex = "
          "d.serial_hex WHERE d.order_id = ? AND d.device_id >= ? ORDER BY d.device_id LIMIT ?"));
  stmt.BindAll(id, prefix, static_cast<int64_t>(limit + 1));
  nlohmann::json devices = nlohmann::json::array();
  bool more = false;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string device = stmt.ColumnText(0);
    if (!device.starts_with(prefix)) break;  // past the prefix in id order
    if (static_cast<int>(devices.size()) == limit) {
      more = true;
      break;
    }
    IMPRINT_ASSIGN_OR_RETURN(DeviceState stored, ParseDeviceState(stmt.ColumnText(3)));
    devices.push_back({{"id", device},
                       {"station", stmt.ColumnText(1)},
                       {"serial", stmt.ColumnText(2)},
                       {"status", Name(ShownState(stored, !stmt.ColumnIsNull(6)))},
                       {"issued_ms", stmt.ColumnInt64(4)},
                       {"reported_ms", stmt.ColumnIsNull(5) ? nlohmann::json(nullptr)
                                                            : nlohmann::json(stmt.ColumnInt64(5))},
                       {"revocation_reason", stmt.ColumnIsNull(6) ? "" : stmt.ColumnText(6)},
                       {"label", stmt.ColumnIsNull(7) ? "" : stmt.ColumnText(7)}});
  }
  order["devices"] = std::move(devices);
  order["more"] = more;
  return order;
}

Result<nlohmann::json> StationsJson(sql::Database& db, int64_t now_ms,
                                    const std::map<std::string, int64_t>& last_seen_ms) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare(
          "SELECT s.name, s.status, s.enrolled_ms, "
          "(SELECT COUNT(*) FROM devices d WHERE d.station = s.name AND d.issued_ms > ?), "
          "(SELECT COUNT(*) FROM devices d WHERE d.station = s.name AND d.status = 'failed'), "
          "(SELECT COUNT(*) FROM revocations r JOIN devices d ON d.serial_hex = r.serial_hex "
          " WHERE d.station = s.name) FROM stations s ORDER BY s.name"));
  stmt.BindAll(now_ms - 60'000);
  nlohmann::json stations = nlohmann::json::array();
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string name = stmt.ColumnText(0);
    auto seen = last_seen_ms.find(name);
    stations.push_back({{"name", name},
                        {"status", stmt.ColumnText(1)},
                        {"enrolled_ms", stmt.ColumnIsNull(2) ? nlohmann::json(nullptr)
                                                             : nlohmann::json(stmt.ColumnInt64(2))},
                        {"last_seen_ms", seen == last_seen_ms.end() ? nlohmann::json(nullptr)
                                                                    : nlohmann::json(seen->second)},
                        {"devices_last_minute", stmt.ColumnInt64(3)},
                        {"failed", stmt.ColumnInt64(4)},
                        {"revoked", stmt.ColumnInt64(5)}});
  }
  return stations;
}

Result<nlohmann::json> AuditHeadJson(sql::Database& db) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto head, db.Prepare("SELECT seq, hash, time_ms FROM audit_log ORDER BY seq DESC LIMIT 1"));
  IMPRINT_ASSIGN_OR_RETURN(bool row, head.Step());
  nlohmann::json out = {{"head_seq", row ? head.ColumnInt64(0) : 0},
                        {"head_hash", row ? HexEncode(head.ColumnBlob(1)) : ""},
                        {"head_time_ms", row ? head.ColumnInt64(2) : 0}};
  IMPRINT_ASSIGN_OR_RETURN(
      auto cp, db.Prepare("SELECT seq, time_ms FROM audit_checkpoints ORDER BY seq DESC LIMIT 1"));
  IMPRINT_ASSIGN_OR_RETURN(row, cp.Step());
  out["checkpoint_seq"] = row ? cp.ColumnInt64(0) : 0;
  out["checkpoint_time_ms"] = row ? cp.ColumnInt64(1) : 0;
  return out;
}

}  // namespace imprint::ca
