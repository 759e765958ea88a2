// Per-device secrets and the provisioning report.

#include <openssl/crypto.h>

#include "ca/authority.h"
#include "ca/matter/commissioning.h"
#include "ca/secret_generator.h"
#include "ca/states.h"
#include "common/log.h"
#include "common/matter/attestation.h"
#include "common/proof.h"
#include "common/x509/chain.h"
#include "common/x509/encoding.h"
#include "common/x509/openssl_error.h"
#include "common/x509/signer.h"

namespace imprint::ca {
namespace {

constexpr const char* kPasswordName = kDefaultPasswordName;
constexpr size_t kMaxDetailBytes = 512;
constexpr size_t kMaxProofBytes = 1024;

struct DeviceRow {
  bool found = false;
  bool station_allowed = false;
  bool order_open = false;
  std::string owner;  // the station that started it; empty once an operator reset it
  std::string serial_hex;
  DeviceState status = DeviceState::kIssued;
  int64_t report_audit_seq = 0;
  Bytes certificate_der;
  Bytes challenge;
};

// The device's row if it was issued under `order`, whether `station` is on that order and
// whether the order is open.
Result<DeviceRow> LoadDevice(sql::Database& db, const std::string& order, const std::string& device,
                             const std::string& station) {
  DeviceRow state;
  IMPRINT_ASSIGN_OR_RETURN(
      auto allowed, db.Prepare("SELECT 1 FROM order_stations WHERE order_id = ? AND station = ?"));
  allowed.BindAll(order, station);
  IMPRINT_ASSIGN_OR_RETURN(state.station_allowed, allowed.Step());
  IMPRINT_ASSIGN_OR_RETURN(auto open, db.Prepare("SELECT status FROM orders WHERE id = ?"));
  open.BindAll(order);
  IMPRINT_ASSIGN_OR_RETURN(bool order_found, open.Step());
  if (order_found) {
    IMPRINT_ASSIGN_OR_RETURN(OrderState order_state, ParseOrderState(open.ColumnText(0)));
    state.order_open = order_state == OrderState::kOpen;
  }
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare("SELECT serial_hex, status, coalesce(report_audit_seq, 0), station, "
                            "certificate_der, challenge FROM devices "
                            "WHERE device_id = ? AND order_id = ?"));
  stmt.BindAll(device, order);
  IMPRINT_ASSIGN_OR_RETURN(state.found, stmt.Step());
  if (state.found) {
    state.serial_hex = stmt.ColumnText(0);
    IMPRINT_ASSIGN_OR_RETURN(state.status, ParseDeviceState(stmt.ColumnText(1)));
    state.report_audit_seq = stmt.ColumnInt64(2);
    state.owner = stmt.ColumnText(3);
    state.certificate_der = stmt.ColumnBlob(4);
    if (!stmt.ColumnIsNull(5)) state.challenge = stmt.ColumnBlob(5);
  }
  return state;
}

// The rules every station call about one device in progress obeys.
Status CheckDeviceInProgress(const DeviceRow& d, const std::string& station) {
  if (!d.station_allowed) return Fail(Code::kPermissionDenied, "station not allowed on this order");
  if (!d.order_open) return Fail(Code::kFailedPrecondition, "order is closed");
  if (!d.found) return Fail(Code::kNotFound, "no certificate issued for this device on this order");
  if (d.status == DeviceState::kVerified) {
    return Fail(Code::kFailedPrecondition, "device already reported provisioned");
  }
  if (d.status == DeviceState::kFailed) {
    return Fail(Code::kFailedPrecondition, kDeviceFailedMessage);
  }
  if (d.owner != station) {
    return Fail(Code::kPermissionDenied, "device is in progress at another station");
  }
  return {};
}

// Whether `signature` is the certified key's signature over ProofMessage(challenge).
bool ProofVerifies(const DeviceRow& d, ByteView signature) {
  if (d.challenge.empty() || signature.empty()) return false;
  auto cert = x509::ParseCertificateDer(d.certificate_der);
  if (!cert) return false;
  EVP_PKEY* key = X509_get0_pubkey(cert->get());
  auto alg = x509::DefaultAlgorithmFor(key);
  if (!alg) return false;
  bool ok = x509::VerifySignature(key, *alg, ProofMessage(d.challenge), signature).has_value();
  x509::ClearOpenSslErrors();
  return ok;
}

// Keeps the keyed verifier of secret `name` (a new generation of it when the device had one)
// and returns its generation.
Result<int64_t> KeepVerifier(WriteContext& ctx, const std::string& device, const char* name,
                             const Bytes& verifier) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto upsert,
      ctx.db().Prepare("INSERT INTO secret_verifiers (device_id, name, verifier, generation, "
                       "issued_ms) VALUES (?, ?, ?, 1, ?) ON CONFLICT (device_id, name) DO "
                       "UPDATE SET verifier = excluded.verifier, "
                       "generation = secret_verifiers.generation + 1, "
                       "issued_ms = excluded.issued_ms RETURNING generation"));
  upsert.BindAll(device, name, verifier, ctx.now_ms());
  IMPRINT_ASSIGN_OR_RETURN(bool row, upsert.Step());
  int64_t generation = row ? upsert.ColumnInt64(0) : 1;
  IMPRINT_RETURN_IF_ERROR(upsert.Run());
  return generation;
}

// A Matter device's attestation (docs/matter.md, "Attestation at the line"): the elements carry
// the CA's challenge as nonce and the order's CD, the DAC key signed them with the station's
// challenge, and the DAC chains through the order's PAI to its PAA.
Status CheckMatterAttestation(const DeviceRow& d, const MatterOrder& matter, const ActivePai& pai,
                              const ReportRequest& r) {
  if (r.attestation_elements.size() > matter::kMaxAttestationElementsBytes) {
    return Fail(Code::kInvalidArgument, "attestation elements larger than 900 bytes");
  }
  IMPRINT_ASSIGN_OR_RETURN(auto dac, x509::ParseCertificateDer(d.certificate_der));
  IMPRINT_RETURN_IF_ERROR(matter::VerifyAttestation(X509_get0_pubkey(dac.get()),
                                                    r.attestation_elements, r.attestation_challenge,
                                                    r.proof_signature, d.challenge, matter.cd_der));
  auto chained = x509::VerifyChain(dac.get(), {pai.certificate.get()}, pai.paa.get());
  x509::ClearOpenSslErrors();
  if (!chained) return Fail(Code::kInvalidArgument, "the DAC does not chain to the order's PAA");
  return {};
}

}  // namespace

Result<SecretsResult> Authority::IssueDeviceSecrets(const std::string& station,
                                                    const std::string& order,
                                                    const std::string& device) {
  if (!IsValidIdentifier(order) || !IsValidIdentifier(device)) {
    return Fail(Code::kInvalidArgument, "invalid order_id or device_id");
  }
  std::shared_ptr<const MatterOrder> matter;
  {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(DeviceRow d, LoadDevice(*db, order, device, station));
    IMPRINT_RETURN_IF_ERROR(CheckDeviceInProgress(d, station));
    IMPRINT_ASSIGN_OR_RETURN(matter, matter_orders_.Get(*db, order));
  }
  if (matter) return IssueMatterSecrets(station, order, device, *matter);
  // EN 303 645 5.1-2: drawn from the HSM's generator, unrelated to serial or MAC.
  auto random = [this](size_t n) { return hsm_.SecretRandom(n); };
  auto password = DrawPassword(random, config_.password_length);
  if (!password) {
    LogWarning("secret generation failed: " + password.error().message());
    return Fail(Code::kUnavailable, "secret generator unavailable, retry");
  }
  Secret message = VerifierMessage(device, kPasswordName, password->Reveal());
  auto verifier = hsm_.verifier().Mac(AsBytes(message.Reveal()));
  if (!verifier) {
    LogWarning("secret verifier failed: " + verifier.error().message());
    return Fail(Code::kUnavailable, "secret verifier unavailable, retry");
  }

  SecretsResult result;
  IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(DeviceRow d, LoadDevice(ctx.db(), order, device, station));
    IMPRINT_RETURN_IF_ERROR(CheckDeviceInProgress(d, station));
    IMPRINT_ASSIGN_OR_RETURN(int64_t generation,
                             KeepVerifier(ctx, device, kPasswordName, *verifier));
    IMPRINT_ASSIGN_OR_RETURN(
        result.audit_seq,
        ctx.Audit("station:" + station, generation == 1 ? "secrets.issued" : "secrets.replaced",
                  {{"order", order},
                   {"device", device},
                   {"names", {kPasswordName}},
                   {"generation", generation}}));
    return {};
  }));
  result.secrets.push_back({kPasswordName, std::move(*password)});
  return result;
}

// The Matter commissioning data replaces the default password: the passcode is the device's
// unique credential (EN 303 645 5.1-1). A passcode another device of the order already has is
// drawn again; the CA keeps keyed MACs of it, never the passcode or its verifier.
Result<SecretsResult> Authority::IssueMatterSecrets(const std::string& station,
                                                    const std::string& order,
                                                    const std::string& device,
                                                    const MatterOrder& matter) {
  constexpr int kDraws = 4;  // a repeat needs ~10^4 devices in an order; four in a row, never
  for (int draw = 1; draw <= kDraws; ++draw) {
    IMPRINT_ASSIGN_OR_RETURN(Commissioning data, DrawCommissioning(hsm_, order, matter));
    Secret message = VerifierMessage(device, kMatterPasscodeName, data.passcode.Reveal());
    auto verifier = hsm_.verifier().Mac(AsBytes(message.Reveal()));
    if (!verifier) {
      LogWarning("secret verifier failed: " + verifier.error().message());
      return Fail(Code::kUnavailable, "secret verifier unavailable, retry");
    }
    bool repeated = false;
    SecretsResult result;
    IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(DeviceRow d, LoadDevice(ctx.db(), order, device, station));
      IMPRINT_RETURN_IF_ERROR(CheckDeviceInProgress(d, station));
      IMPRINT_ASSIGN_OR_RETURN(
          auto taken, ctx.db().Prepare("SELECT 1 FROM matter_devices WHERE order_id = ? AND "
                                       "passcode_mac = ? AND device_id != ?"));
      taken.BindAll(order, data.passcode_mac, device);
      IMPRINT_ASSIGN_OR_RETURN(repeated, taken.Step());
      if (repeated) return {};
      IMPRINT_ASSIGN_OR_RETURN(
          auto upsert,
          ctx.db().Prepare(
              "INSERT INTO matter_devices (device_id, order_id, passcode_mac, discriminator, "
              "salt, iterations) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE "
              "SET order_id = excluded.order_id, passcode_mac = excluded.passcode_mac, "
              "discriminator = excluded.discriminator, salt = excluded.salt, "
              "iterations = excluded.iterations"));
      upsert.BindAll(device, order, data.passcode_mac, int64_t{data.discriminator}, data.salt,
                     int64_t{data.iterations});
      IMPRINT_RETURN_IF_ERROR(upsert.Run());
      IMPRINT_ASSIGN_OR_RETURN(int64_t generation,
                               KeepVerifier(ctx, device, kMatterPasscodeName, *verifier));
      IMPRINT_ASSIGN_OR_RETURN(
          result.audit_seq,
          ctx.Audit("station:" + station, generation == 1 ? "secrets.issued" : "secrets.replaced",
                    {{"order", order},
                     {"device", device},
                     {"names", {kMatterPasscodeName}},
                     {"generation", generation},
                     {"matter",
                      {{"discriminator", data.discriminator}, {"iterations", data.iterations}}}}));
      return {};
    }));
    if (repeated) {
      LogInfo("Matter passcode repeated within order " + order + "; drawn again");
      continue;
    }
    for (auto& [name, value] : CommissioningSecrets(data, matter)) {
      result.secrets.push_back({name, std::move(value)});
    }
    return result;
  }
  return Fail(Code::kUnavailable, "no unrepeated Matter passcode in four draws, retry");
}

Result<uint64_t> Authority::ReportProvisioned(const std::string& station, const ReportRequest& r) {
  if (!IsValidIdentifier(r.order_id) || !IsValidIdentifier(r.device_id)) {
    return Fail(Code::kInvalidArgument, "invalid order_id or device_id");
  }
  if (r.proof_signature.size() > kMaxProofBytes) {
    return Fail(Code::kInvalidArgument, "proof signature too large");
  }
  std::string detail = EscapeForDisplay(r.detail, kMaxDetailBytes);
  // The station's "verified" is a claim; the CA checks the proof itself (outside the write
  // transaction: it is CPU work), against the certificate and challenge it recorded.
  bool proof_ok = false;
  std::string refusal = "the device's proof of possession does not verify";
  if (r.verified) {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(DeviceRow d, LoadDevice(*db, r.order_id, r.device_id, station));
    IMPRINT_ASSIGN_OR_RETURN(auto matter, matter_orders_.Get(*db, r.order_id));
    if (matter && d.found) {
      // A Matter device counts as verified only with an attestation the CA checks itself.
      auto pai = matter_pais_.Get(*db, matter->pai_label);
      if (!pai) {
        LogWarning("Matter PAI " + matter->pai_label + ": " + pai.error().message());
        return Fail(Code::kUnavailable, "attestation check unavailable, retry");
      }
      auto attested = CheckMatterAttestation(d, *matter, **pai, r);
      proof_ok = attested.has_value();
      if (!attested) refusal = "Matter attestation refused: " + attested.error().message();
    } else {
      proof_ok = d.found && ProofVerifies(d, r.proof_signature);
    }
  }
  bool proof_refused = false;
  uint64_t seq = 0;
  IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(DeviceRow d, LoadDevice(ctx.db(), r.order_id, r.device_id, station));
    if (d.found && d.serial_hex != r.serial_hex) {
      return Fail(Code::kInvalidArgument, "serial does not match the issued certificate");
    }
    if (d.found && d.status == DeviceState::kVerified && r.verified) {
      seq = static_cast<uint64_t>(d.report_audit_seq);  // a repeated report changes nothing
      return {};
    }
    if (d.found && d.status == DeviceState::kFailed && !r.verified) {
      seq = static_cast<uint64_t>(d.report_audit_seq);
      return {};
    }
    IMPRINT_RETURN_IF_ERROR(CheckDeviceInProgress(d, station));
    bool verified = r.verified && proof_ok;
    proof_refused = r.verified && !proof_ok;
    std::string why = proof_refused ? refusal : detail;
    IMPRINT_ASSIGN_OR_RETURN(
        seq, ctx.Audit("station:" + station, verified ? "device.verified" : "device.failed",
                       {{"order", r.order_id},
                        {"device", r.device_id},
                        {"serial", r.serial_hex},
                        {"detail", why}}));
    IMPRINT_ASSIGN_OR_RETURN(auto update,
                             ctx.db().Prepare("UPDATE devices SET status = ?, reported_ms = ?, "
                                              "report_audit_seq = ? WHERE device_id = ?"));
    update.BindAll(Name(verified ? DeviceState::kVerified : DeviceState::kFailed), ctx.now_ms(),
                   static_cast<int64_t>(seq), r.device_id);
    IMPRINT_RETURN_IF_ERROR(update.Run());
    if (verified) {
      IMPRINT_ASSIGN_OR_RETURN(
          auto count, ctx.db().Prepare("UPDATE orders SET verified = verified + 1 WHERE id = ?"));
      count.BindAll(r.order_id);
      IMPRINT_RETURN_IF_ERROR(count.Run());
    }
    return {};
  }));
  if (proof_refused) return Fail(Code::kInvalidArgument, refusal + "; device marked failed");
  return seq;
}

Result<DeviceRecord> Authority::GetDeviceRecord(const std::string& device_id) {
  if (!IsValidIdentifier(device_id)) return Fail(Code::kInvalidArgument, "invalid device_id");
  auto db = reads_.Acquire();
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt, db->Prepare("SELECT order_id, serial_hex, certificate_der, status, challenge, "
                             "profile FROM devices WHERE device_id = ?"));
  stmt.BindAll(device_id);
  IMPRINT_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return Fail(Code::kNotFound, "this CA has no record of the device");
  DeviceRecord record{stmt.ColumnText(0),
                      stmt.ColumnText(1),
                      stmt.ColumnBlob(2),
                      stmt.ColumnText(3),
                      stmt.ColumnIsNull(4) ? Bytes{} : stmt.ColumnBlob(4),
                      stmt.ColumnText(5) == "matter-dac"};
  return record;
}

}  // namespace imprint::ca
