// What support staff see of a device, and rework of a device that came back.

#include "ca/revocation/device_history.h"

#include "ca/revocation/revocation.h"
#include "common/identifier.h"

namespace imprint::ca {

Status RetireCertificate(WriteContext& ctx, const std::string& device_id, uint64_t audit_seq) {
  sql::Database& db = ctx.db();
  IMPRINT_ASSIGN_OR_RETURN(
      auto row,
      db.Prepare("SELECT d.order_id, d.station, d.serial_hex, d.certificate_der, d.issued_ms, "
                 "d.issue_audit_seq, r.reason, d.allowance_id FROM devices d LEFT JOIN "
                 "revocations r "
                 "ON r.serial_hex = d.serial_hex WHERE d.device_id = ?"));
  row.BindAll(device_id);
  IMPRINT_ASSIGN_OR_RETURN(bool found, row.Step());
  if (!found) return Fail(Code::kNotFound, "unknown device " + device_id);
  std::string order = row.ColumnText(0), serial = row.ColumnText(2);
  bool revoked = !row.ColumnIsNull(6);
  IMPRINT_ASSIGN_OR_RETURN(
      auto keep, db.Prepare("INSERT INTO device_history (serial_hex, device_id, order_id, "
                            "station, certificate_der, "
                            "issued_ms, issue_audit_seq, reworked_ms, rework_audit_seq, "
                            "allowance_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  keep.BindAll(serial, device_id, order, row.ColumnText(1), row.ColumnBlob(3), row.ColumnInt64(4),
               row.ColumnInt64(5), ctx.now_ms(), static_cast<int64_t>(audit_seq));
  // Its issuer: a subordinate's certificate is published by the offline CRL and answered for
  // under that subordinate by OCSP, after the rework as before.
  if (row.ColumnIsNull(7)) {
    keep.BindNull(10);
  } else {
    keep.Bind(10, row.ColumnText(7));
  }
  IMPRINT_RETURN_IF_ERROR(keep.Run());
  if (!revoked) {
    IMPRINT_ASSIGN_OR_RETURN(
        auto revoke,
        db.Prepare("INSERT INTO revocations (serial_hex, device_id, order_id, reason, revoked_ms, "
                   "audit_seq) VALUES (?, ?, ?, 'superseded', ?, ?)"));
    revoke.BindAll(serial, device_id, order, ctx.now_ms(), static_cast<int64_t>(audit_seq));
    IMPRINT_RETURN_IF_ERROR(revoke.Run());
    IMPRINT_RETURN_IF_ERROR(MarkCrlStale(db));
  }
  // The secrets' verifiers go with the certificate: the next provisioning issues new ones.
  for (const char* sql : {"DELETE FROM secret_verifiers WHERE device_id = ?",
                          "DELETE FROM devices WHERE device_id = ?"}) {
    IMPRINT_ASSIGN_OR_RETURN(auto remove, db.Prepare(sql));
    remove.BindAll(device_id);
    IMPRINT_RETURN_IF_ERROR(remove.Run());
  }
  return {};
}

Status DeviceRework(WriteContext& ctx, const std::string& device_id) {
  if (!IsValidIdentifier(device_id)) return Fail(Code::kInvalidArgument, "invalid device id");
  IMPRINT_ASSIGN_OR_RETURN(
      auto row, ctx.db().Prepare("SELECT d.order_id, d.serial_hex, r.reason FROM devices d LEFT "
                                 "JOIN revocations r ON r.serial_hex = d.serial_hex WHERE "
                                 "d.device_id = ?"));
  row.BindAll(device_id);
  IMPRINT_ASSIGN_OR_RETURN(bool found, row.Step());
  if (!found) return Fail(Code::kNotFound, "unknown device " + device_id);
  bool revoked = !row.ColumnIsNull(2);
  IMPRINT_ASSIGN_OR_RETURN(uint64_t seq,
                           ctx.Audit("admin", "device.reworked",
                                     {{"device", device_id},
                                      {"order", row.ColumnText(0)},
                                      {"serial", row.ColumnText(1)},
                                      {"revoked", revoked ? row.ColumnText(2) : "superseded"}}));
  return RetireCertificate(ctx, device_id, seq);
}

Result<DeviceInfo> DeviceShow(sql::Database& db, const std::string& device_id) {
  if (!IsValidIdentifier(device_id)) return Fail(Code::kInvalidArgument, "invalid device id");
  DeviceInfo info;
  info.device_id = device_id;
  IMPRINT_ASSIGN_OR_RETURN(
      auto row,
      db.Prepare(
          "SELECT d.order_id, d.station, d.status, d.serial_hex, d.issued_ms, d.reported_ms, "
          "r.reason, r.revoked_ms, r.invalidity_ms, d.label_code, d.label_bound_ms, "
          "d.label_station FROM devices d LEFT JOIN revocations r "
          "ON r.serial_hex = d.serial_hex WHERE d.device_id = ?"));
  row.BindAll(device_id);
  IMPRINT_ASSIGN_OR_RETURN(bool current, row.Step());
  if (current) {
    info.order_id = row.ColumnText(0);
    info.station = row.ColumnText(1);
    info.status = row.ColumnText(2);
    info.serial_hex = row.ColumnText(3);
    info.issued_ms = row.ColumnInt64(4);
    if (!row.ColumnIsNull(5)) info.reported_ms = row.ColumnInt64(5);
    if (!row.ColumnIsNull(6)) {
      info.revocation = DeviceInfo::Revocation{row.ColumnText(6), row.ColumnInt64(7), {}};
      if (!row.ColumnIsNull(8)) info.revocation->invalidity_ms = row.ColumnInt64(8);
    }
    if (!row.ColumnIsNull(10)) {
      info.label = DeviceInfo::Label{row.ColumnText(9), row.ColumnText(11), row.ColumnInt64(10)};
    }
  }
  IMPRINT_ASSIGN_OR_RETURN(
      auto former,
      db.Prepare("SELECT h.serial_hex, h.order_id, h.issued_ms, h.reworked_ms, r.reason FROM "
                 "device_history h LEFT JOIN revocations r ON r.serial_hex = h.serial_hex "
                 "WHERE h.device_id = ? ORDER BY h.issued_ms"));
  former.BindAll(device_id);
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool more, former.Step());
    if (!more) break;
    info.former.push_back({former.ColumnText(0), former.ColumnText(1), former.ColumnText(4),
                           former.ColumnInt64(2), former.ColumnInt64(3)});
  }
  if (!current && info.former.empty()) return Fail(Code::kNotFound, "unknown device " + device_id);
  IMPRINT_ASSIGN_OR_RETURN(
      auto attested,
      db.Prepare("SELECT kind, ek_issuer, ek_certificate_der, ak_name, ak_public, key_public, "
                 "certify_info, certify_signature FROM device_attestations WHERE device_id = ?"));
  attested.BindAll(device_id);
  IMPRINT_ASSIGN_OR_RETURN(bool has_evidence, attested.Step());
  if (has_evidence && current) {
    info.attestation = DeviceInfo::Attestation{attested.ColumnText(0), attested.ColumnText(1),
                                               attested.ColumnBlob(2), attested.ColumnBlob(3),
                                               attested.ColumnBlob(4), attested.ColumnBlob(5),
                                               attested.ColumnBlob(6), attested.ColumnBlob(7)};
  }
  IMPRINT_ASSIGN_OR_RETURN(
      auto operational,
      db.Prepare("SELECT c.serial_hex, c.profile, c.authenticated_by, r.reason, c.not_before_ms, "
                 "c.not_after_ms FROM operational_certificates c LEFT JOIN revocations r ON "
                 "r.serial_hex = c.serial_hex WHERE c.device_id = ? ORDER BY c.not_before_ms, "
                 "c.audit_seq"));
  operational.BindAll(device_id);
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool more, operational.Step());
    if (!more) break;
    info.operational.push_back({operational.ColumnText(0), operational.ColumnText(1),
                                operational.ColumnText(2),
                                operational.ColumnIsNull(3) ? "" : operational.ColumnText(3),
                                operational.ColumnInt64(4), operational.ColumnInt64(5)});
  }
  if (!current) info.status = "reworked";  // waiting to be provisioned again
  return info;
}

}  // namespace imprint::ca
