#include "ca/allowance/allowance.h"

#include <charconv>

#include "common/identifier.h"

namespace imprint::ca {
namespace {

constexpr std::string_view kColumns =
    "id, order_id, station, count, used, status, granted_ms, not_after_ms, revoked_ms, "
    "revoke_reason, (SELECT count(*) FROM allowance_violations v WHERE v.allowance_id = "
    "allowances.id)";

Result<Allowance> ReadAllowance(sql::Statement& row) {
  Allowance a;
  a.id = row.ColumnText(0);
  a.order_id = row.ColumnText(1);
  a.station = row.ColumnText(2);
  a.count = row.ColumnInt64(3);
  a.used = row.ColumnInt64(4);
  IMPRINT_ASSIGN_OR_RETURN(a.state, ParseAllowanceState(row.ColumnText(5)));
  a.granted_ms = row.ColumnInt64(6);
  a.not_after_ms = row.ColumnInt64(7);
  if (!row.ColumnIsNull(8)) a.revoked_ms = row.ColumnInt64(8);
  a.revoke_reason = row.ColumnIsNull(9) ? "" : row.ColumnText(9);
  a.violations = row.ColumnInt64(10);
  return a;
}

Status CheckReason(const std::string& reason) {
  bool printable = !reason.empty() && reason.size() <= 200;
  for (unsigned char c : reason) printable = printable && c >= 0x20 && c != 0x7f;
  if (!printable) {
    return Fail(Code::kInvalidArgument,
                "the reason must be 1-200 printable characters (it goes into the audit log)");
  }
  return {};
}

}  // namespace

Result<int64_t> ParseValidFor(std::string_view text) {
  int64_t unit_ms = 0;
  if (!text.empty()) {
    switch (text.back()) {
      case 's':
        unit_ms = 1000;
        break;
      case 'm':
        unit_ms = 60 * 1000;
        break;
      case 'h':
        unit_ms = 3600 * 1000;
        break;
      case 'd':
        unit_ms = 24 * 3600 * 1000;
        break;
      default:
        break;
    }
  }
  int64_t amount = 0;
  std::string_view digits = text.empty() ? text : text.substr(0, text.size() - 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), amount);
  if (unit_ms == 0 || digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      amount <= 0 || amount > kMaxAllowanceMs / unit_ms) {
    return Fail(Code::kInvalidArgument,
                "--valid-for must be a number with s, m, h or d, at most 31d (e.g. 72h)");
  }
  return amount * unit_ms;
}

Status CheckOrderAndStation(const std::string& order_id, const std::string& station) {
  if (!IsValidIdentifier(order_id) || !IsValidIdentifier(station)) {
    return Fail(Code::kInvalidArgument,
                "order id and station name must be 1-64 of A-Z a-z 0-9 . _ : -");
  }
  return {};
}

Status CheckAllowanceGrant(const AllowanceGrant& grant) {
  IMPRINT_RETURN_IF_ERROR(CheckOrderAndStation(grant.order_id, grant.station));
  if (grant.count < 1) return Fail(Code::kInvalidArgument, "an allowance's count must be positive");
  if (grant.valid_for_ms <= 0 || grant.valid_for_ms > kMaxAllowanceMs) {
    return Fail(Code::kInvalidArgument, "an allowance lasts more than nothing and at most 31 days");
  }
  return {};
}

Result<Allowance> GrantAllowance(WriteContext& ctx, const AllowanceGrant& grant,
                                 const std::string& id) {
  IMPRINT_RETURN_IF_ERROR(CheckAllowanceGrant(grant));
  sql::Database& db = ctx.db();
  IMPRINT_ASSIGN_OR_RETURN(
      auto facts,
      db.Prepare("SELECT o.status, o.quota - o.issued - o.reserved, "
                 "(SELECT COUNT(*) FROM order_stations s WHERE s.order_id = o.id AND "
                 "s.station = ?), (SELECT status FROM stations t WHERE t.name = ?), "
                 "(SELECT COUNT(*) FROM allowances a WHERE a.order_id = o.id AND a.station = ? "
                 "AND a.status = 'granted') FROM orders o WHERE o.id = ?"));
  facts.BindAll(grant.station, grant.station, grant.station, grant.order_id);
  IMPRINT_ASSIGN_OR_RETURN(bool order_found, facts.Step());
  if (!order_found) return Fail(Code::kNotFound, "unknown order " + grant.order_id);
  if (facts.ColumnIsNull(3)) return Fail(Code::kNotFound, "unknown station " + grant.station);
  IMPRINT_ASSIGN_OR_RETURN(OrderState order_state, ParseOrderState(facts.ColumnText(0)));
  IMPRINT_ASSIGN_OR_RETURN(StationState station_state, ParseStationState(facts.ColumnText(3)));
  int64_t left = facts.ColumnInt64(1);
  if (order_state != OrderState::kOpen) {
    return Fail(Code::kFailedPrecondition, "order " + grant.order_id + " is closed");
  }
  // A Matter order's DACs come from a PAI whose key stays in the CA's token: a station
  // cannot sign them offline.
  IMPRINT_ASSIGN_OR_RETURN(auto matter,
                           db.Prepare("SELECT 1 FROM matter_orders WHERE order_id = ?"));
  matter.BindAll(grant.order_id);
  IMPRINT_ASSIGN_OR_RETURN(bool is_matter, matter.Step());
  if (is_matter) {
    return Fail(Code::kFailedPrecondition,
                "order " + grant.order_id +
                    " is a Matter order: its DACs are signed by a PAI in the CA's token, never "
                    "offline");
  }
  IMPRINT_ASSIGN_OR_RETURN(
      auto attested, db.Prepare("SELECT 1 FROM orders WHERE id = ? AND attestation != 'none'"));
  attested.BindAll(grant.order_id);
  IMPRINT_ASSIGN_OR_RETURN(bool needs_attestation, attested.Step());
  if (needs_attestation) {
    return Fail(Code::kFailedPrecondition,
                "order " + grant.order_id +
                    " requires key attestation, which only the CA checks: never offline");
  }
  if (facts.ColumnInt64(2) == 0) {
    return Fail(Code::kFailedPrecondition,
                "station " + grant.station + " is not on order " + grant.order_id);
  }
  if (station_state != StationState::kActive) {
    return Fail(Code::kFailedPrecondition, "station " + grant.station + " is " +
                                               std::string(Name(station_state)) + ", not active");
  }
  if (facts.ColumnInt64(4) > 0) {
    return Fail(Code::kAlreadyExists, "station " + grant.station +
                                          " already holds a live allowance for order " +
                                          grant.order_id + "; revoke it first");
  }
  if (grant.count > left) {
    return Fail(Code::kResourceExhausted,
                "order " + grant.order_id + " has " + std::to_string(left) +
                    " certificates left; cannot grant " + std::to_string(grant.count));
  }

  Allowance a;
  a.id = id;
  a.order_id = grant.order_id;
  a.station = grant.station;
  a.count = grant.count;
  a.granted_ms = ctx.now_ms();
  a.not_after_ms = ctx.now_ms() + grant.valid_for_ms;
  IMPRINT_ASSIGN_OR_RETURN(uint64_t seq, ctx.Audit("admin", "allowance.granted",
                                                   {{"allowance", a.id},
                                                    {"order", a.order_id},
                                                    {"station", a.station},
                                                    {"count", a.count},
                                                    {"not_after_ms", a.not_after_ms}}));
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      db.Prepare("INSERT INTO allowances (id, order_id, station, count, status, granted_ms, "
                 "not_after_ms, granted_audit_seq) VALUES (?, ?, ?, ?, 'granted', ?, ?, ?)"));
  insert.BindAll(a.id, a.order_id, a.station, a.count, a.granted_ms, a.not_after_ms,
                 static_cast<int64_t>(seq));
  IMPRINT_RETURN_IF_ERROR(insert.Run());
  // The facts above were read under the store's write lock, which this transaction holds: no
  // other writer can have issued or reserved since.
  IMPRINT_ASSIGN_OR_RETURN(auto reserve,
                           db.Prepare("UPDATE orders SET reserved = reserved + ? WHERE id = ?"));
  reserve.BindAll(a.count, a.order_id);
  IMPRINT_RETURN_IF_ERROR(reserve.Run());
  return a;
}

Result<Allowance> RevokeAllowance(WriteContext& ctx, const std::string& order_id,
                                  const std::string& station, const std::string& reason) {
  IMPRINT_RETURN_IF_ERROR(CheckReason(reason));
  sql::Database& db = ctx.db();
  IMPRINT_ASSIGN_OR_RETURN(auto live,
                           db.Prepare("SELECT " + std::string(kColumns) +
                                      " FROM allowances WHERE order_id = ? AND station = ? AND "
                                      "status = 'granted'"));
  live.BindAll(order_id, station);
  IMPRINT_ASSIGN_OR_RETURN(bool found, live.Step());
  if (!found) {
    return Fail(Code::kNotFound,
                "station " + station + " holds no live allowance for order " + order_id);
  }
  IMPRINT_ASSIGN_OR_RETURN(Allowance a, ReadAllowance(live));
  int64_t returned = a.count - a.used;
  IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "allowance.revoked",
                                    {{"allowance", a.id},
                                     {"order", a.order_id},
                                     {"station", a.station},
                                     {"returned", returned},
                                     {"reason", reason}}));
  IMPRINT_ASSIGN_OR_RETURN(auto revoke,
                           db.Prepare("UPDATE allowances SET status = 'revoked', revoked_ms = ?, "
                                      "revoke_reason = ? WHERE id = ? AND status = 'granted'"));
  revoke.BindAll(ctx.now_ms(), reason, a.id);
  IMPRINT_RETURN_IF_ERROR(revoke.Run());
  // OCSP answers about the subordinate certificate change at once (the responder's cache goes).
  IMPRINT_ASSIGN_OR_RETURN(auto moved,
                           db.Prepare("UPDATE crl_state SET changes = changes + 1 WHERE id = 1"));
  IMPRINT_RETURN_IF_ERROR(moved.Run());
  IMPRINT_ASSIGN_OR_RETURN(auto give_back,
                           db.Prepare("UPDATE orders SET reserved = reserved - ? WHERE id = ?"));
  give_back.BindAll(returned, a.order_id);
  IMPRINT_RETURN_IF_ERROR(give_back.Run());
  a.state = AllowanceState::kRevoked;
  a.revoked_ms = ctx.now_ms();
  a.revoke_reason = reason;
  return a;
}

Result<std::vector<Allowance>> ListAllowances(sql::Database& db, const std::string& order_id) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM allowances";
  if (!order_id.empty()) sql += " WHERE order_id = ?";
  sql += " ORDER BY granted_ms, id";
  IMPRINT_ASSIGN_OR_RETURN(auto rows, db.Prepare(sql));
  if (!order_id.empty()) rows.BindAll(order_id);
  std::vector<Allowance> out;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    IMPRINT_ASSIGN_OR_RETURN(Allowance a, ReadAllowance(rows));
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace imprint::ca
