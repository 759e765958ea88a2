// Device certificate issuance: the rules of IssueDeviceCertificate.

#include "ca/authority.h"
#include "common/log.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

// kClaim: already issued to a device an operator reset; the caller's station takes it over.
enum class Verdict { kIssue, kAlreadyIssued, kClaim, kReject };

struct Decision {
  Verdict verdict = Verdict::kReject;
  std::optional<Error> error;
  std::string audit_event;  // empty: the rejection is not audited
  IssueResult existing;
};

Decision Reject(Code code, std::string message, std::string audit_event = "") {
  Decision d;
  d.error = Error(code, std::move(message));
  d.audit_event = std::move(audit_event);
  return d;
}

// The issuance rules, in the order they apply. Run once on a read connection before signing
// and again inside the write transaction, where its answer is final.
Result<Decision> Decide(sql::Database& db, const std::string& station, const IssueRequest& r,
                        const Bytes& spki) {
  IMPRINT_ASSIGN_OR_RETURN(auto order,
                           db.Prepare("SELECT status, quota, issued FROM orders WHERE id = ?"));
  order.BindAll(r.order_id);
  IMPRINT_ASSIGN_OR_RETURN(bool found, order.Step());
  if (!found) return Reject(Code::kNotFound, "unknown order");
  IMPRINT_ASSIGN_OR_RETURN(
      auto allowed, db.Prepare("SELECT 1 FROM order_stations WHERE order_id = ? AND station = ?"));
  allowed.BindAll(r.order_id, station);
  IMPRINT_ASSIGN_OR_RETURN(bool on_order, allowed.Step());
  if (!on_order) {
    return Reject(Code::kPermissionDenied, "station not allowed on this order", "auth.denied");
  }
  IMPRINT_ASSIGN_OR_RETURN(auto device,
                           db.Prepare("SELECT order_id, spki_sha256, certificate_der, serial_hex, "
                                      "issue_audit_seq, status, station, challenge FROM devices "
                                      "WHERE device_id = ?"));
  device.BindAll(r.device_id);
  IMPRINT_ASSIGN_OR_RETURN(bool known, device.Step());
  if (known) {
    if (device.ColumnText(0) == r.order_id && device.ColumnBlob(1) == spki) {
      std::string status = device.ColumnText(5);
      std::string owner = device.ColumnText(6);
      if (status == "failed") {
        return Reject(Code::kFailedPrecondition, kDeviceFailedMessage);
      }
      if (status != "verified" && !owner.empty() && owner != station) {
        return Reject(Code::kPermissionDenied, "device is in progress at another station",
                      "auth.denied");
      }
      Decision d;
      d.verdict = owner.empty() && status != "verified" ? Verdict::kClaim : Verdict::kAlreadyIssued;
      d.existing = {device.ColumnBlob(2), device.ColumnText(3), true,
                    static_cast<uint64_t>(device.ColumnInt64(4)),
                    device.ColumnIsNull(7) ? Bytes{} : device.ColumnBlob(7)};
      return d;
    }
    return Reject(Code::kAlreadyExists, "device already has an identity with another key",
                  "certificate.device_conflict");
  }
  if (order.ColumnText(0) != "open") return Reject(Code::kFailedPrecondition, "order is closed");
  IMPRINT_ASSIGN_OR_RETURN(auto key_owner,
                           db.Prepare("SELECT device_id FROM devices WHERE spki_sha256 = ?"));
  key_owner.BindAll(spki);
  IMPRINT_ASSIGN_OR_RETURN(bool key_taken, key_owner.Step());
  if (key_taken) {
    return Reject(Code::kAlreadyExists, "public key already bound to another device",
                  "certificate.duplicate_key");
  }
  if (order.ColumnInt64(2) >= order.ColumnInt64(1)) {
    return Reject(Code::kResourceExhausted, "order quota used up", "order.quota_exhausted");
  }
  Decision d;
  d.verdict = Verdict::kIssue;
  return d;
}

Status Record(WriteContext& ctx, const std::string& station, const IssueRequest& r,
              const std::string& profile, const Bytes& spki, IssueResult& result) {
  IMPRINT_ASSIGN_OR_RETURN(result.audit_seq, ctx.Audit("station:" + station, "certificate.issued",
                                                       {{"order", r.order_id},
                                                        {"device", r.device_id},
                                                        {"serial", result.serial_hex},
                                                        {"spki_sha256", HexEncode(spki)},
                                                        {"profile", profile}}));
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      ctx.db().Prepare("INSERT INTO devices (device_id, order_id, station, profile, serial_hex, "
                       "spki_sha256, certificate_der, status, issued_ms, issue_audit_seq, "
                       "challenge) VALUES (?, ?, ?, ?, ?, ?, ?, 'issued', ?, ?, ?)"));
  insert.BindAll(r.device_id, r.order_id, station, profile, result.serial_hex, spki,
                 result.certificate_der, ctx.now_ms(), static_cast<int64_t>(result.audit_seq),
                 result.challenge);
  IMPRINT_RETURN_IF_ERROR(insert.Run());
  IMPRINT_ASSIGN_OR_RETURN(auto quota,
                           ctx.db().Prepare("UPDATE orders SET issued = issued + 1 WHERE id = ?"));
  quota.BindAll(r.order_id);
  return quota.Run();
}

}  // namespace

Result<IssueResult> Authority::IssueDeviceCertificate(const std::string& station,
                                                      const IssueRequest& r) {
  if (!IsValidIdentifier(r.order_id)) return Fail(Code::kInvalidArgument, "invalid order_id");
  if (!IsValidIdentifier(r.device_id)) {
    return Fail(Code::kInvalidArgument, "invalid device_id (1-64 of A-Z a-z 0-9 . _ : -)");
  }
  std::string profile_name = r.profile.empty() ? "device" : r.profile;
  auto profile = config_.profiles.find(profile_name);
  if (profile == config_.profiles.end() || profile_name == "station" ||
      profile_name == "tls-server") {
    return Fail(Code::kInvalidArgument, "unknown certificate profile");
  }
  auto csr = x509::ParseAndVerifyCsr(r.csr_der);
  if (!csr) return Fail(Code::kInvalidArgument, "CSR rejected: " + csr.error().message());
  Bytes spki = x509::Sha256(csr->spki_der);

  Decision pre;
  {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(pre, Decide(*db, station, r, spki));
  }
  if (pre.verdict == Verdict::kAlreadyIssued) return pre.existing;

  // Serials are random (RFC 5280: at most 20 octets, here 16 from the HSM) and UNIQUE in the
  // store; a clash with a recorded serial is signed again with a new one.
  constexpr int kSerialAttempts = 3;
  IssueResult fresh;
  Decision final_decision;
  for (int attempt = 1;; ++attempt) {
    fresh = IssueResult{};
    if (pre.verdict == Verdict::kIssue) {
      auto challenge = hsm_.Random(kChallengeBytes);
      if (!challenge) {
        LogWarning("HSM random generator failed: " + challenge.error().message());
        return Fail(Code::kUnavailable, "signing service unavailable, retry");
      }
      fresh.challenge = std::move(*challenge);
      // X520SerialNumber is a PrintableString (RFC 5280 Appendix A), which has no '_': such
      // ids are carried by CN and the SAN URI only.
      std::vector<std::pair<std::string, std::string>> subject{{"CN", r.device_id}};
      if (r.device_id.find('_') == std::string::npos)
        subject.emplace_back("serialNumber", r.device_id);
      subject.emplace_back("O", config_.organization);
      IMPRINT_ASSIGN_OR_RETURN(auto cert, Sign(profile->second, std::move(subject),
                                               {config_.device_uri_prefix + r.device_id}, *csr));
      fresh.certificate_der = std::move(cert.certificate_der);
      fresh.serial_hex = std::move(cert.serial_hex);
    }

    bool serial_taken = false;
    IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(final_decision, Decide(ctx.db(), station, r, spki));
      if (final_decision.verdict == Verdict::kReject) {
        if (final_decision.audit_event.empty()) return {};
        nlohmann::json detail = {{"order", r.order_id},
                                 {"device", r.device_id},
                                 {"spki_sha256", HexEncode(spki)},
                                 {"reason", final_decision.error->message()}};
        IMPRINT_RETURN_IF_ERROR(
            ctx.Audit("station:" + station, final_decision.audit_event, detail));
        return {};
      }
      if (final_decision.verdict == Verdict::kAlreadyIssued) return {};
      if (final_decision.verdict == Verdict::kClaim) {
        IMPRINT_ASSIGN_OR_RETURN(
            auto claim, ctx.db().Prepare("UPDATE devices SET station = ? WHERE device_id = ?"));
        claim.BindAll(station, r.device_id);
        IMPRINT_RETURN_IF_ERROR(claim.Run());
        IMPRINT_RETURN_IF_ERROR(ctx.Audit("station:" + station, "device.claimed",
                                          {{"order", r.order_id}, {"device", r.device_id}}));
        return {};
      }
      if (fresh.certificate_der.empty()) {
        // The pre-check rejected, the commit-time check would issue: state moved under us.
        final_decision = Reject(Code::kAborted, "state changed during the request, retry");
        return {};
      }
      IMPRINT_ASSIGN_OR_RETURN(auto serial,
                               ctx.db().Prepare("SELECT 1 FROM devices WHERE serial_hex = ?"));
      serial.BindAll(fresh.serial_hex);
      IMPRINT_ASSIGN_OR_RETURN(serial_taken, serial.Step());
      if (serial_taken) return {};
      return Record(ctx, station, r, profile_name, spki, fresh);
    }));
    if (!serial_taken) break;
    LogWarning("serial " + fresh.serial_hex + " already recorded; signing device " + r.device_id +
               " again with a new serial");
    if (attempt == kSerialAttempts) {
      return Fail(Code::kUnavailable, "serial number clash, retry");
    }
  }
  switch (final_decision.verdict) {
    case Verdict::kReject:
      return std::unexpected(*final_decision.error);
    case Verdict::kAlreadyIssued:
    case Verdict::kClaim:
      return final_decision.existing;
    case Verdict::kIssue:
      return fresh;
  }
  return Fail(Code::kInternal, "unreachable issuance verdict");
}

}  // namespace imprint::ca
