// Device certificate issuance: the rules of IssueDeviceCertificate.

#include "ca/authority.h"
#include "ca/states.h"
#include "common/log.h"
#include "common/matter/attestation_certificate.h"
#include "common/x509/csr.h"
#include "common/x509/device_subject.h"
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

// What the rules need to know, read in one statement (one round trip to a networked store).
struct Facts {
  bool order_found = false;
  OrderState order_status = OrderState::kClosed;
  int64_t quota = 0;
  int64_t issued = 0;  // with the count offline allowances hold (ca/allowance): taken too
  bool station_on_order = false;
  bool device_known = false;
  std::string device_order;
  Bytes device_spki;
  DeviceState device_status = DeviceState::kIssued;
  std::string device_station;
  IssueResult existing;
  bool device_revoked = false;
  bool key_taken = false;             // another device holds this public key
  bool serial_taken = false;          // the serial asked about is recorded already
  bool attestation_required = false;  // the order's attestation = 'tpm'
  bool station_active = false;        // r.station_serial is the station's active certificate
};

// `serial` empty: not asked about.
Result<Facts> ReadFacts(sql::Database& db, const std::string& station, const IssueRequest& r,
                        const Bytes& spki, const std::string& serial) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto q,
      db.Prepare("SELECT o.status, o.quota, o.issued + o.reserved, "
                 "(SELECT COUNT(*) FROM order_stations s WHERE s.order_id = o.id AND "
                 "s.station = ?), "
                 "d.order_id, d.spki_sha256, d.certificate_der, d.serial_hex, d.issue_audit_seq, "
                 "d.status, d.station, d.challenge, "
                 "(SELECT COUNT(*) FROM devices k WHERE k.spki_sha256 = ?), "
                 "(SELECT COUNT(*) FROM devices n WHERE n.serial_hex = ?) + "
                 "(SELECT COUNT(*) FROM device_history h WHERE h.serial_hex = ?), "
                 "(SELECT COUNT(*) FROM revocations v WHERE v.serial_hex = d.serial_hex), "
                 "o.attestation, "
                 "(SELECT COUNT(*) FROM stations st WHERE st.name = ? AND st.cert_serial = ? "
                 "AND st.status = 'active') "
                 "FROM (SELECT 1 AS one) x LEFT JOIN orders o ON o.id = ? "
                 "LEFT JOIN devices d ON d.device_id = ?"));
  q.BindAll(station, spki, serial, serial, station, r.station_serial, r.order_id, r.device_id);
  Facts f;
  IMPRINT_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Fail(Code::kInternal, "issuance facts: no row");
  f.station_active = q.ColumnInt64(16) > 0;
  f.order_found = !q.ColumnIsNull(0);
  if (!f.order_found) return f;
  IMPRINT_ASSIGN_OR_RETURN(f.order_status, ParseOrderState(q.ColumnText(0)));
  f.quota = q.ColumnInt64(1);
  f.issued = q.ColumnInt64(2);
  f.station_on_order = q.ColumnInt64(3) > 0;
  f.device_known = !q.ColumnIsNull(4);
  if (f.device_known) {
    f.device_order = q.ColumnText(4);
    f.device_spki = q.ColumnBlob(5);
    f.existing = {q.ColumnBlob(6), q.ColumnText(7), true, static_cast<uint64_t>(q.ColumnInt64(8)),
                  q.ColumnIsNull(11) ? Bytes{} : q.ColumnBlob(11)};
    IMPRINT_ASSIGN_OR_RETURN(f.device_status, ParseDeviceState(q.ColumnText(9)));
    f.device_station = q.ColumnText(10);
  }
  f.key_taken = q.ColumnInt64(12) > 0;
  f.serial_taken = !serial.empty() && q.ColumnInt64(13) > 0;
  f.device_revoked = q.ColumnInt64(14) > 0;
  f.attestation_required = q.ColumnText(15) == "tpm";
  return f;
}

// The issuance rules, in the order they apply. Run once on a read connection before signing
// and again inside the write transaction, where its answer is final.
Decision Decide(const Facts& f, const std::string& station, const IssueRequest& r,
                const Bytes& spki) {
  if (!r.station_serial.empty() && !f.station_active) {
    return Reject(Code::kUnauthenticated, "station certificate revoked");
  }
  if (!f.order_found) return Reject(Code::kNotFound, "unknown order");
  if (!f.station_on_order) {
    return Reject(Code::kPermissionDenied, "station not allowed on this order", "auth.denied");
  }
  if (f.device_known) {
    if (f.device_order != r.order_id || f.device_spki != spki) {
      return Reject(Code::kAlreadyExists, "device already has an identity with another key",
                    "certificate.device_conflict");
    }
    if (f.device_revoked) {
      return Reject(Code::kFailedPrecondition,
                    "device certificate is revoked; an operator must rework the device first");
    }
    if (f.device_status == DeviceState::kFailed)
      return Reject(Code::kFailedPrecondition, kDeviceFailedMessage);
    bool verified = f.device_status == DeviceState::kVerified;
    if (!verified && !f.device_station.empty() && f.device_station != station) {
      return Reject(Code::kPermissionDenied, "device is in progress at another station",
                    "auth.denied");
    }
    Decision d;
    d.verdict = f.device_station.empty() && !verified ? Verdict::kClaim : Verdict::kAlreadyIssued;
    d.existing = f.existing;
    return d;
  }
  if (f.order_status != OrderState::kOpen)
    return Reject(Code::kFailedPrecondition, "order is closed");
  if (f.key_taken) {
    return Reject(Code::kAlreadyExists, "public key already bound to another device",
                  "certificate.duplicate_key");
  }
  if (f.issued >= f.quota) {
    return Reject(Code::kResourceExhausted, "order quota used up", "order.quota_exhausted");
  }
  Decision d;
  d.verdict = Verdict::kIssue;
  return d;
}

// The evidence of a key attested in its TPM, kept whole (docs/attestation.md); a reworked or
// reset device's earlier evidence gives way.
Status RecordAttestation(WriteContext& ctx, const std::string& device_id, const AttestedKey& a) {
  IMPRINT_ASSIGN_OR_RETURN(auto earlier,
                           ctx.db().Prepare("DELETE FROM device_attestations WHERE device_id = ?"));
  earlier.BindAll(device_id);
  IMPRINT_RETURN_IF_ERROR(earlier.Queue());
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      ctx.db().Prepare("INSERT INTO device_attestations (device_id, kind, ek_sha256, ek_issuer, "
                       "ek_certificate_der, ak_name, ak_public, key_public, certify_info, "
                       "certify_signature) VALUES (?, 'tpm', ?, ?, ?, ?, ?, ?, ?, ?)"));
  insert.BindAll(device_id, a.ek_sha256, a.ek_issuer, a.evidence.ek_certificate_der, a.ak_name,
                 a.evidence.ak_public, a.evidence.key_public, a.evidence.certify_info,
                 a.evidence.certify_signature);
  return insert.Queue();
}

Status Record(WriteContext& ctx, const std::string& station, const IssueRequest& r,
              const std::string& profile, const Bytes& spki,
              const std::optional<AttestedKey>& attested, IssueResult& result) {
  nlohmann::json detail = {{"order", r.order_id},
                           {"device", r.device_id},
                           {"serial", result.serial_hex},
                           {"spki_sha256", HexEncode(spki)},
                           {"profile", profile}};
  if (attested) {
    detail["attestation"] = {{"kind", "tpm"},
                             {"ek_sha256", HexEncode(attested->ek_sha256)},
                             {"ek_issuer", attested->ek_issuer},
                             {"ak_name", HexEncode(attested->ak_name)},
                             {"certify_sha256", HexEncode(attested->certify_sha256)}};
    IMPRINT_RETURN_IF_ERROR(RecordAttestation(ctx, r.device_id, *attested));
  }
  IMPRINT_ASSIGN_OR_RETURN(result.audit_seq,
                           ctx.Audit("station:" + station, "certificate.issued", detail));
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      ctx.db().Prepare("INSERT INTO devices (device_id, order_id, station, profile, serial_hex, "
                       "spki_sha256, certificate_der, status, issued_ms, issue_audit_seq, "
                       "challenge) VALUES (?, ?, ?, ?, ?, ?, ?, 'issued', ?, ?, ?)"));
  insert.BindAll(r.device_id, r.order_id, station, profile, result.serial_hex, spki,
                 result.certificate_der, ctx.now_ms(), static_cast<int64_t>(result.audit_seq),
                 result.challenge);
  IMPRINT_RETURN_IF_ERROR(insert.Queue());
  IMPRINT_ASSIGN_OR_RETURN(auto quota,
                           ctx.db().Prepare("UPDATE orders SET issued = issued + 1 WHERE id = ?"));
  quota.BindAll(r.order_id);
  return quota.Queue();
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
  bool attestation_required = false;
  std::shared_ptr<const MatterOrder> matter;
  const ActivePai* pai = nullptr;
  {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(Facts facts, ReadFacts(*db, station, r, spki, ""));
    pre = Decide(facts, station, r, spki);
    attestation_required = facts.attestation_required;
    if (pre.verdict != Verdict::kReject) {
      IMPRINT_ASSIGN_OR_RETURN(matter, matter_orders_.Get(*db, r.order_id));
    }
    if (matter) {
      auto loaded = matter_pais_.Get(*db, matter->pai_label);
      if (!loaded) {
        LogWarning("Matter PAI " + matter->pai_label + ": " + loaded.error().message());
        return Fail(Code::kUnavailable, "signing service unavailable, retry");
      }
      pai = *loaded;
    }
  }
  // A Matter order's devices get a DAC from its PAI (docs/matter.md), with the chain that
  // reaches the PAA instead of the CA's.
  auto as_matter = [&](IssueResult result) {
    if (pai != nullptr) {
      result.matter = true;
      result.chain_der = {pai->certificate_der, pai->paa_der};
    }
    return result;
  };
  if (matter) {
    if (profile_name != "device") {
      return Fail(Code::kInvalidArgument, "a Matter order's devices get the DAC profile only");
    }
    if (csr->key_info.kind != x509::KeyKind::kEcP256) {
      return Fail(Code::kInvalidArgument,
                  "a Matter DAC key must be EC P-256, not " + csr->key_info.Describe());
    }
    profile_name = "matter-dac";
  }
  if (pre.verdict == Verdict::kAlreadyIssued) return as_matter(pre.existing);
  std::optional<AttestedKey> attested;
  if (pre.verdict == Verdict::kIssue) {
    IMPRINT_ASSIGN_OR_RETURN(
        attested,
        CheckKeyAttestation(station, r, profile_name, attestation_required, csr->public_key.get()));
  }

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
      Result<Signed> signed_cert =
          pai != nullptr
              ? Sign(DacProfile(),
                     DacSubject(r.device_id, config_.organization, matter->vendor_id,
                                matter->product_id),
                     {}, *csr, pai->certificate.get(), pai->signer.get())
              : Sign(profile->second, x509::DeviceSubjectName(r.device_id, config_.organization),
                     {config_.device_uri_prefix + r.device_id}, *csr, nullptr, nullptr,
                     attested && !attested->tpm_name_der.empty()
                         ? std::vector<Bytes>{attested->tpm_name_der}
                         : std::vector<Bytes>{});
      IMPRINT_ASSIGN_OR_RETURN(auto cert, std::move(signed_cert));
      if (pai != nullptr) {
        // Held to the DAC profile (600 bytes and all) before anything is recorded.
        auto dac = matter::CheckAttestationCertificate(cert.certificate_der,
                                                       matter::AttestationKind::kDac);
        if (!dac) return Fail(Code::kInvalidArgument, "DAC refused: " + dac.error().message());
      }
      fresh.certificate_der = std::move(cert.certificate_der);
      fresh.serial_hex = std::move(cert.serial_hex);
    }

    bool serial_taken = false;
    IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(Facts facts,
                               ReadFacts(ctx.db(), station, r, spki, fresh.serial_hex));
      final_decision = Decide(facts, station, r, spki);
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
      serial_taken = facts.serial_taken;
      if (serial_taken) return {};
      return Record(ctx, station, r, profile_name, spki, attested, fresh);
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
      return as_matter(final_decision.existing);
    case Verdict::kIssue:
      return as_matter(std::move(fresh));
  }
  return Fail(Code::kInternal, "unreachable issuance verdict");
}

}  // namespace imprint::ca
