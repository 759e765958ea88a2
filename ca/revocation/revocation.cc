#include "ca/revocation/revocation.h"

#include "common/identifier.h"
#include "common/utc_time.h"

namespace imprint::ca {
namespace {

using Scope = RevocationRequest::Scope;

// The devices a request selects, as a condition on `devices d`; parameters from BindSelection.
const char* SelectionSql(Scope scope) {
  switch (scope) {
    case Scope::kDevice:
      return "d.device_id = ?";
    case Scope::kOrder:
      return "d.order_id = ?";
    case Scope::kStation:
      return "d.station = ? AND d.issued_ms >= ? AND d.issued_ms <= ?";
  }
  return "1 = 0";
}

void BindSelection(sql::Statement& stmt, int first, const RevocationRequest& r) {
  stmt.Bind(first, r.id);
  if (r.scope == Scope::kStation) stmt.Bind(first + 1, r.since_ms).Bind(first + 2, r.until_ms);
}

constexpr const char* kNotRevoked =
    " AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.serial_hex = d.serial_hex)";

Status CheckRequest(const RevocationRequest& r) {
  if (!IsValidIdentifier(r.id)) return Fail(Code::kInvalidArgument, "invalid id '" + r.id + "'");
  if (r.scope == Scope::kStation && r.since_ms > r.until_ms) {
    return Fail(Code::kInvalidArgument, "--since " + FormatUtcTime(r.since_ms) +
                                            " is after --until " + FormatUtcTime(r.until_ms));
  }
  // Only what was issued can be revoked: a window reaching into the future would promise the
  // operator something it does not do (the current second is allowed).
  if (r.scope == Scope::kStation && r.until_ms > NowMs() + 1000) {
    return Fail(Code::kInvalidArgument, "--until " + FormatUtcTime(r.until_ms) +
                                            " is in the future: only certificates already "
                                            "issued can be revoked");
  }
  // When the key was compromised or the certificate became wrong (RFC 5280 5.3.2): a time that
  // has passed. Before 1970 or in the future it is a typing mistake, and CRL time arithmetic
  // is only defined between 1678 and 2262.
  if (r.invalidity_ms && (*r.invalidity_ms < 0 || *r.invalidity_ms > NowMs() + 1000)) {
    return Fail(Code::kInvalidArgument, "--invalidity-date " + FormatUtcTime(*r.invalidity_ms) +
                                            " is not a past time: it says since when the "
                                            "certificate should not have been trusted");
  }
  return {};
}

Status RequireKnown(sql::Database& db, const RevocationRequest& r) {
  static constexpr const char* kQueries[] = {"SELECT 1 FROM devices WHERE device_id = ?",
                                             "SELECT 1 FROM orders WHERE id = ?",
                                             "SELECT 1 FROM stations WHERE name = ?"};
  static constexpr const char* kNames[] = {"device", "order", "station"};
  int i = static_cast<int>(r.scope);
  IMPRINT_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kQueries[i]));
  stmt.BindAll(r.id);
  IMPRINT_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return Fail(Code::kNotFound, std::string("unknown ") + kNames[i] + " " + r.id);
  return {};
}

Result<RevocationOutcome> Count(sql::Database& db, const RevocationRequest& r) {
  IMPRINT_RETURN_IF_ERROR(RequireKnown(db, r));
  IMPRINT_ASSIGN_OR_RETURN(
      auto count, db.Prepare(std::string("SELECT COUNT(*), COUNT(r.serial_hex) FROM devices d "
                                         "LEFT JOIN revocations r ON r.serial_hex = d.serial_hex "
                                         "WHERE ") +
                             SelectionSql(r.scope)));
  BindSelection(count, 1, r);
  IMPRINT_ASSIGN_OR_RETURN(bool row, count.Step());
  RevocationOutcome out;
  if (row) {
    out.selected = count.ColumnInt64(0);
    out.already_revoked = count.ColumnInt64(1);
  }
  return out;
}

nlohmann::json SelectionDetail(const RevocationRequest& r) {
  switch (r.scope) {
    case Scope::kDevice:
      return {{"device", r.id}};
    case Scope::kOrder:
      return {{"order", r.id}};
    case Scope::kStation:
      return {{"station", r.id},
              {"since", FormatUtcTime(r.since_ms)},
              {"until", FormatUtcTime(r.until_ms)}};
  }
  return {};
}

// Revokes the selection's unrevoked certificates in `ctx`'s transaction; one audit record.
Status RevokeSelection(WriteContext& ctx, const RevocationRequest& r, RevocationOutcome& out) {
  IMPRINT_ASSIGN_OR_RETURN(out, Count(ctx.db(), r));
  if (out.selected == out.already_revoked) return {};  // nothing to change, nothing to audit
  IMPRINT_ASSIGN_OR_RETURN(
      auto serials,
      ctx.db().Prepare(std::string("SELECT d.serial_hex FROM devices d WHERE ") +
                       SelectionSql(r.scope) + kNotRevoked + " ORDER BY d.serial_hex"));
  BindSelection(serials, 1, r);
  nlohmann::json list = nlohmann::json::array();
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, serials.Step());
    if (!row) break;
    list.push_back(serials.ColumnText(0));
  }
  nlohmann::json detail = SelectionDetail(r);
  detail["reason"] = std::string(x509::CrlReasonName(r.reason));
  if (r.invalidity_ms) detail["invalidity_date"] = FormatUtcTime(*r.invalidity_ms);
  detail["count"] = list.size();
  detail["serials"] = std::move(list);
  IMPRINT_ASSIGN_OR_RETURN(uint64_t seq, ctx.Audit(r.actor, "certificate.revoked", detail));
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      ctx.db().Prepare(
          std::string("INSERT INTO revocations (serial_hex, device_id, order_id, "
                      "reason, revoked_ms, invalidity_ms, audit_seq) SELECT "
                      "d.serial_hex, d.device_id, d.order_id, CAST(? AS TEXT), CAST(? AS BIGINT), "
                      "CAST(? AS BIGINT), CAST(? AS BIGINT) FROM devices d WHERE ") +
          SelectionSql(r.scope) + kNotRevoked));
  insert.Bind(1, x509::CrlReasonName(r.reason)).Bind(2, ctx.now_ms());
  if (r.invalidity_ms) {
    insert.Bind(3, *r.invalidity_ms);
  } else {
    insert.BindNull(3);
  }
  insert.Bind(4, static_cast<int64_t>(seq));
  BindSelection(insert, 5, r);
  IMPRINT_RETURN_IF_ERROR(insert.Run());
  out.revoked = ctx.db().Changes();
  if (out.revoked != out.selected - out.already_revoked) {
    // The write lock makes this impossible; if it happens, the audit record would lie.
    return Fail(Code::kInternal, "revocation count changed inside its transaction");
  }
  // The operational certificates the selected devices renewed in the field (docs/est.md) go
  // with them, with the same reason and record.
  IMPRINT_ASSIGN_OR_RETURN(
      auto operational,
      ctx.db().Prepare(
          std::string("INSERT INTO revocations (serial_hex, device_id, order_id, "
                      "reason, revoked_ms, invalidity_ms, audit_seq) SELECT "
                      "c.serial_hex, d.device_id, d.order_id, CAST(? AS TEXT), CAST(? AS BIGINT), "
                      "CAST(? AS BIGINT), CAST(? AS BIGINT) FROM operational_certificates c JOIN "
                      "devices d ON d.device_id = c.device_id WHERE NOT EXISTS (SELECT 1 FROM "
                      "revocations x WHERE x.serial_hex = c.serial_hex) AND ") +
          SelectionSql(r.scope)));
  operational.Bind(1, x509::CrlReasonName(r.reason)).Bind(2, ctx.now_ms());
  if (r.invalidity_ms) {
    operational.Bind(3, *r.invalidity_ms);
  } else {
    operational.BindNull(3);
  }
  operational.Bind(4, static_cast<int64_t>(seq));
  BindSelection(operational, 5, r);
  IMPRINT_RETURN_IF_ERROR(operational.Run());
  return MarkCrlStale(ctx.db());
}

}  // namespace

Status MarkCrlStale(sql::Database& db) {
  IMPRINT_ASSIGN_OR_RETURN(auto stale,
                           db.Prepare("UPDATE crl_state SET changes = changes + 1 WHERE id = 1"));
  return stale.Run();
}

Status Revoke(WriteContext& ctx, const RevocationRequest& request, RevocationOutcome& out) {
  IMPRINT_RETURN_IF_ERROR(CheckRequest(request));
  return RevokeSelection(ctx, request, out);
}

Result<RevocationOutcome> CountRevocable(sql::Database& db, const RevocationRequest& request) {
  IMPRINT_RETURN_IF_ERROR(CheckRequest(request));
  return Count(db, request);
}

Status Unrevoke(WriteContext& ctx, const std::string& device_id) {
  if (!IsValidIdentifier(device_id)) return Fail(Code::kInvalidArgument, "invalid device id");
  RevocationRequest known;
  known.id = device_id;
  IMPRINT_RETURN_IF_ERROR(RequireKnown(ctx.db(), known));
  IMPRINT_ASSIGN_OR_RETURN(
      auto row, ctx.db().Prepare("SELECT r.serial_hex, r.reason FROM devices d JOIN revocations r "
                                 "ON r.serial_hex = d.serial_hex WHERE d.device_id = ?"));
  row.BindAll(device_id);
  IMPRINT_ASSIGN_OR_RETURN(bool revoked, row.Step());
  if (!revoked) return Fail(Code::kNotFound, "device " + device_id + " is not revoked");
  std::string serial = row.ColumnText(0), reason = row.ColumnText(1);
  if (reason != x509::CrlReasonName(x509::CrlReason::kCertificateHold)) {
    return Fail(Code::kFailedPrecondition, "device " + device_id + " was revoked for " + reason +
                                               "; only certificate-hold can be lifted");
  }
  IMPRINT_ASSIGN_OR_RETURN(auto lift,
                           ctx.db().Prepare("DELETE FROM revocations WHERE serial_hex = ?"));
  lift.BindAll(serial);
  IMPRINT_RETURN_IF_ERROR(lift.Run());
  IMPRINT_RETURN_IF_ERROR(
      ctx.Audit("admin", "certificate.unrevoked", {{"device", device_id}, {"serial", serial}}));
  return MarkCrlStale(ctx.db());
}

}  // namespace imprint::ca
