// Reconcile: a station's offline log, recorded into the registry or refused with its
// violations (desk.h).
#include <map>
#include <mutex>
#include <set>

#include "ca/allowance/desk.h"
#include "ca/revocation/device_history.h"
#include "ca/secret_generator.h"
#include "common/log.h"
#include "common/offline/ocsp_delegate.h"
#include "common/offline/sealed_secret.h"
#include "common/parallel.h"
#include "common/proof.h"
#include "common/x509/encoding.h"
#include "common/x509/signer.h"
#include "common/x509/spki.h"

namespace imprint::ca {
namespace {

// At most this many violations of one part are kept and audited one by one; the rest are
// counted in the last record.
constexpr size_t kMaxViolationRecords = 100;

struct AllowanceRow {
  std::string station;
  std::string order_id;
  AllowanceState state = AllowanceState::kGranted;
  Bytes subordinate_der;
  std::string signed_allowance;
  offline::LogStart progress;
  bool ocsp_delegated = false;
};

Result<std::optional<AllowanceRow>> ReadRow(sql::Database& db, const std::string& id) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto row,
      db.Prepare("SELECT station, order_id, status, subordinate_der, signed_allowance, "
                 "reconciled_seq, reconciled_hash, CASE WHEN ocsp_delegate_der IS NULL THEN 0 "
                 "ELSE 1 END FROM allowances "
                 "WHERE id = ? AND "
                 "subordinate_der IS NOT NULL"));
  row.BindAll(id);
  IMPRINT_ASSIGN_OR_RETURN(bool found, row.Step());
  if (!found) return std::optional<AllowanceRow>();
  AllowanceRow r;
  r.station = row.ColumnText(0);
  r.order_id = row.ColumnText(1);
  IMPRINT_ASSIGN_OR_RETURN(r.state, ParseAllowanceState(row.ColumnText(2)));
  r.subordinate_der = row.ColumnBlob(3);
  r.signed_allowance = row.ColumnText(4);
  r.progress.seq = row.ColumnInt64(5);
  if (!row.ColumnIsNull(6)) r.progress.hash = row.ColumnBlob(6);
  r.ocsp_delegated = row.ColumnInt64(7) != 0;
  return std::optional<AllowanceRow>(std::move(r));
}

// Where each device of the part already stands in the registry, by device id and by key.
struct Checked {
  Bytes spki_sha256;
  bool verified = false;
  Bytes password_verifier;  // the keyed verifier of its sealed password, when it had one
  std::string supersedes;   // the serial of the online certificate this one replaces
};

// The online certificate an offline one for the same device and key replaces (docs/offline.md,
// "Switching mid-run"): issued by the CA to this allowance's station for its order, never
// reported verified or failed, not revoked. The CA's answer was lost when it went away, and the
// station finished the device under its allowance. "" when there is none.
Result<std::string> SupersededSerial(sql::Database& db, const AllowanceRow& a,
                                     const std::string& device, const Bytes& spki_sha256) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto row,
      db.Prepare("SELECT d.serial_hex FROM devices d LEFT JOIN revocations r ON r.serial_hex = "
                 "d.serial_hex WHERE d.device_id = ? AND d.station = ? AND d.order_id = ? AND "
                 "d.status = 'issued' AND d.allowance_id IS NULL AND d.spki_sha256 = ? AND "
                 "r.serial_hex IS NULL"));
  row.BindAll(device, a.station, a.order_id, spki_sha256);
  IMPRINT_ASSIGN_OR_RETURN(bool found, row.Step());
  return found ? row.ColumnText(0) : std::string();
}

Result<std::optional<std::string>> Holder(sql::Database& db, const char* column, auto value) {
  IMPRINT_ASSIGN_OR_RETURN(auto row, db.Prepare(std::string("SELECT device_id, order_id FROM "
                                                            "devices WHERE ") +
                                                column + " = ?"));
  row.BindAll(value);
  IMPRINT_ASSIGN_OR_RETURN(bool found, row.Step());
  if (!found) return std::optional<std::string>();
  return std::optional<std::string>(row.ColumnText(0) + " (order " + row.ColumnText(1) + ")");
}

// The online certificate checked by SupersededSerial, retired for the offline one of `e`, if it
// still stands as it was read (ABORTED otherwise: the station asks again, and a device reported
// in between is then "already" in the registry).
Status Supersede(WriteContext& ctx, const AllowanceRow& a, const offline::LogEntry& e,
                 const Checked& checked, const std::string& allowance_id) {
  const std::string& serial = checked.supersedes;
  IMPRINT_ASSIGN_OR_RETURN(std::string now,
                           SupersededSerial(ctx.db(), a, e.device, checked.spki_sha256));
  if (now != serial) {
    return Fail(Code::kAborted, "device " + e.device + " changed during reconcile; ask again");
  }
  IMPRINT_ASSIGN_OR_RETURN(uint64_t seq, ctx.Audit("station:" + a.station, "device.superseded",
                                                   {{"device", e.device},
                                                    {"order", a.order_id},
                                                    {"serial", serial},
                                                    {"by_serial", e.serial_hex},
                                                    {"allowance", allowance_id},
                                                    {"offline_seq", e.seq}}));
  return RetireCertificate(ctx, e.device, seq);
}

// The verifier as the online path keeps it (generation 1), audited as secrets.issued.
Status KeepVerifier(WriteContext& ctx, const std::string& actor, const std::string& order,
                    const std::string& allowance_id, const std::string& device,
                    const Bytes& verifier) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert, ctx.db().Prepare("INSERT INTO secret_verifiers (device_id, name, verifier, "
                                    "generation, issued_ms) VALUES (?, ?, ?, 1, ?)"));
  insert.BindAll(device, kDefaultPasswordName, verifier, ctx.now_ms());
  IMPRINT_RETURN_IF_ERROR(insert.Run());
  IMPRINT_RETURN_IF_ERROR(ctx.Audit(actor, "secrets.issued",
                                    {{"order", order},
                                     {"device", device},
                                     {"names", {kDefaultPasswordName}},
                                     {"generation", 1},
                                     {"allowance", allowance_id}}));
  return {};
}

// The keyed verifier of the device's sealed password (docs/offline.md, "Passwords"), made as
// the online path makes it; the password is opened in the token and forgotten here. Returns the
// violation's reason instead when the sealed value is missing where it must be, not signed by
// the subordinate key, or does not open. Errors are the token's.
Result<std::string> OpenPassword(const offline::SignedAllowance& a, X509* subordinate,
                                 const offline::DeriveShared& derive, p11::HmacKey& verifier_key,
                                 const offline::LogEntry& e, bool verified, ByteView sealed,
                                 ByteView signature, Bytes& verifier) {
  if (sealed.empty()) {
    if (!verified) return std::string();  // never committed: it has no password
    return "device " + e.device + " committed without its password sealed to the CA";
  }
  offline::SealedFor binding{a.id, e.device, kDefaultPasswordName};
  EVP_PKEY* station_key = X509_get0_pubkey(subordinate);
  auto alg = x509::DefaultAlgorithmFor(station_key);
  if (!alg ||
      !x509::VerifySignature(station_key, *alg, offline::SealedSecretMessage(binding, sealed),
                             Bytes(signature.begin(), signature.end()))) {
    return "the sealed password of device " + e.device + " is not signed by the subordinate key";
  }
  auto password = offline::OpenSealedSecret(sealed, binding, derive);
  if (!password) {
    Code code = password.error().code();
    if (code != Code::kDataLoss && code != Code::kInvalidArgument) {
      return std::unexpected(password.error());
    }
    return "the sealed password of device " + e.device + " does not open";
  }
  Secret message = VerifierMessage(e.device, kDefaultPasswordName, password->Reveal());
  IMPRINT_ASSIGN_OR_RETURN(verifier, verifier_key.Mac(AsBytes(message.Reveal())));
  return std::string();
}

std::string Numbered(int64_t seq, const std::string& reason) {
  return "seq " + std::to_string(seq) + ": " + reason;
}

}  // namespace

Status AllowanceDesk::KeepOcspDelegate(const std::string& station, const std::string& allowance_id,
                                       ByteView der, const X509* subordinate) {
  const X509* responder = ocsp_responder_.load();
  if (responder == nullptr) return Fail(Code::kFailedPrecondition, "this CA serves no OCSP");
  IMPRINT_RETURN_IF_ERROR(offline::CheckOcspDelegate(der, subordinate, responder));
  IMPRINT_ASSIGN_OR_RETURN(auto cert, x509::ParseCertificateDer(der));
  IMPRINT_ASSIGN_OR_RETURN(std::string serial, x509::SerialHex(cert.get()));
  return writer_.Submit([&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(auto update,
                             ctx.db().Prepare("UPDATE allowances SET ocsp_delegate_der = ? WHERE "
                                              "id = ? AND ocsp_delegate_der IS NULL"));
    update.BindAll(Bytes(der.begin(), der.end()), allowance_id);
    IMPRINT_RETURN_IF_ERROR(update.Run());
    if (ctx.db().Changes() == 0) return {};  // a concurrent reconcile kept one first
    IMPRINT_RETURN_IF_ERROR(ctx.Audit("station:" + station, "allowance.ocsp_delegated",
                                      {{"allowance", allowance_id}, {"delegate_serial", serial}}));
    return {};
  });
}

Result<ReconcileResult> AllowanceDesk::Reconcile(const std::string& station,
                                                 const ReconcilePart& part) {
  if (!IsValidIdentifier(part.allowance_id)) {
    return Fail(Code::kInvalidArgument, "invalid allowance id");
  }
  if (part.entries.size() > kMaxReconcileEntries || part.proofs.size() != part.entries.size() ||
      part.sealed_passwords.size() != part.entries.size() ||
      part.sealed_signatures.size() != part.entries.size() ||
      part.checkpoints.size() > kMaxReconcileEntries) {
    return Fail(Code::kInvalidArgument, "at most " + std::to_string(kMaxReconcileEntries) +
                                            " entries and checkpoints, one proof per entry");
  }
  std::optional<AllowanceRow> row;
  {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(row, ReadRow(*db, part.allowance_id));
  }
  if (!row) {
    return Fail(Code::kNotFound, "no allowance " + part.allowance_id + " was fetched");
  }
  ReconcileResult result;
  result.reconciled_seq = row->progress.seq;
  result.revoked = row->state != AllowanceState::kGranted;
  // A station asking where it stands learns of a revocation; only an upload is a violation.
  bool asking = part.entries.empty() && part.checkpoints.empty() && part.ocsp_delegate_der.empty();
  if (asking && result.revoked && row->station == station) return result;
  IMPRINT_ASSIGN_OR_RETURN(auto subordinate, x509::ParseCertificateDer(row->subordinate_der));
  bool own = row->station == station && row->state == AllowanceState::kGranted;
  if (own && !row->ocsp_delegated && !part.ocsp_delegate_der.empty()) {
    IMPRINT_RETURN_IF_ERROR(
        KeepOcspDelegate(station, part.allowance_id, part.ocsp_delegate_der, subordinate.get()));
    row->ocsp_delegated = true;
  }
  if (const X509* responder = ocsp_responder_.load(); own && !row->ocsp_delegated && responder) {
    IMPRINT_ASSIGN_OR_RETURN(result.ocsp_responder_der, x509::CertificateToDer(responder));
  }

  // Everything that is wrong, before anything is written.
  std::vector<offline::LogViolation> found;
  if (row->station != station) {
    found.push_back({0, "the log of station " + row->station +
                            "'s allowance was uploaded by "
                            "station " +
                            station});
  }
  if (row->state != AllowanceState::kGranted) {
    found.push_back({0, "the allowance was revoked; its devices are the operator's to judge"});
  }
  auto allowance = offline::VerifySignedAllowance(row->signed_allowance, certs_.root.get());
  if (!allowance) return std::unexpected(allowance.error().WithContext("stored allowance"));
  // Entries the CA has recorded are skipped; the last of them must still chain as it did.
  std::vector<offline::LogEntry> fresh;
  std::vector<size_t> fresh_at;  // where each fresh entry is in the part
  for (size_t i = 0; i < part.entries.size(); ++i) {
    const offline::LogEntry& e = part.entries[i];
    if (e.seq > row->progress.seq) {
      fresh.push_back(e);
      fresh_at.push_back(i);
    } else if (e.seq == row->progress.seq && e.hash != row->progress.hash) {
      found.push_back({e.seq, "the log differs from what was reconciled before"});
    }
  }
  if (fresh.empty() && found.empty()) return result;
  std::vector<x509::PkeyPtr> device_keys;  // decoded once, by VerifyLog
  for (auto& v : offline::VerifyLog(*allowance, subordinate.get(), fresh, part.checkpoints,
                                    row->progress, &device_keys)) {
    found.push_back(std::move(v));
  }
  std::vector<Checked> checked(fresh.size());
  if (found.empty()) {
    auto db = reads_.Acquire();
    std::set<Bytes> keys;
    for (size_t i = 0; i < fresh.size(); ++i) {
      const offline::LogEntry& e = fresh[i];
      IMPRINT_ASSIGN_OR_RETURN(ByteView spki, x509::CertificateSpki(e.certificate_der));
      checked[i].spki_sha256 = x509::Sha256(spki);
      IMPRINT_ASSIGN_OR_RETURN(checked[i].supersedes,
                               SupersededSerial(*db, *row, e.device, checked[i].spki_sha256));
      std::optional<std::string> device, key;
      if (checked[i].supersedes.empty()) {
        IMPRINT_ASSIGN_OR_RETURN(device, Holder(*db, "device_id", e.device));
        IMPRINT_ASSIGN_OR_RETURN(key, Holder(*db, "spki_sha256", checked[i].spki_sha256));
      }
      if (device) found.push_back({e.seq, "device " + e.device + " is already " + *device});
      if (key || !keys.insert(checked[i].spki_sha256).second) {
        found.push_back({e.seq, "the key of device " + e.device + " is already bound to " +
                                    (key ? *key : std::string("another device of this log"))});
      }
    }
  }
  // Each device's proof and sealed password: no store, only CPU and the token, so spread over
  // the machine's threads (a part waits for nothing else).
  if (found.empty()) {
    p11::EcdhKey* transport = nullptr;
    if (!allowance->secret_key_spki.empty()) {
      IMPRINT_ASSIGN_OR_RETURN(transport, SecretTransport());
      Bytes held;
      if (transport != nullptr) {
        IMPRINT_ASSIGN_OR_RETURN(held, x509::PublicKeyToDer(transport->public_key()));
      }
      if (held != allowance->secret_key_spki) {
        return Fail(Code::kFailedPrecondition,
                    "this CA's token does not hold the secret-transport key allowance " +
                        part.allowance_id + " names; reconcile at a node whose token does");
      }
    }
    // A station seals a run's passwords with one ephemeral key: one ECDH in the token per key.
    std::mutex shared_mu;
    std::map<Bytes, Secret> shared_by_point;  // wiped as it goes
    offline::DeriveShared derive = [&](ByteView point) -> Result<Secret> {
      Bytes key(point.begin(), point.end());
      {
        std::lock_guard lock(shared_mu);
        if (auto it = shared_by_point.find(key); it != shared_by_point.end()) {
          return Secret::CopyOf(it->second.Reveal());
        }
      }
      IMPRINT_ASSIGN_OR_RETURN(Secret shared, transport->Derive(point));
      std::lock_guard lock(shared_mu);
      shared_by_point.emplace(std::move(key), Secret::CopyOf(shared.Reveal()));
      return shared;
    };
    std::vector<std::string> wrong(fresh.size());
    IMPRINT_RETURN_IF_ERROR(InParallel(fresh.size(), [&](size_t i) -> Status {
      const offline::LogEntry& e = fresh[i];
      const Bytes& proof = part.proofs[fresh_at[i]];
      if (!proof.empty() && device_keys[i]) {
        EVP_PKEY* device_key = device_keys[i].get();
        auto alg = x509::DefaultAlgorithmFor(device_key);
        checked[i].verified =
            alg &&
            x509::VerifySignature(device_key, *alg, ProofMessage(e.challenge), proof).has_value();
      }
      if (transport == nullptr) return {};
      IMPRINT_ASSIGN_OR_RETURN(
          wrong[i],
          OpenPassword(*allowance, subordinate.get(), derive, hsm_.verifier(), e,
                       checked[i].verified, part.sealed_passwords[fresh_at[i]],
                       part.sealed_signatures[fresh_at[i]], checked[i].password_verifier));
      return {};
    }));
    for (size_t i = 0; i < fresh.size(); ++i) {
      if (!wrong[i].empty()) found.push_back({fresh[i].seq, wrong[i]});
    }
  }

  if (!found.empty()) {
    for (const auto& v : found) result.violations.push_back(Numbered(v.seq, v.reason));
    IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(
          auto insert,
          ctx.db().Prepare("INSERT INTO allowance_violations (allowance_id, seq, "
                           "reason, reported_by, recorded_ms) VALUES (?, ?, ?, ?, ?)"));
      for (size_t i = 0; i < found.size() && i < kMaxViolationRecords; ++i) {
        bool last = i + 1 == kMaxViolationRecords && found.size() > kMaxViolationRecords;
        std::string reason = found[i].reason;
        if (last) reason += " (and " + std::to_string(found.size() - i - 1) + " more)";
        insert.Reset();
        insert.BindAll(part.allowance_id, found[i].seq, reason, station, ctx.now_ms());
        IMPRINT_RETURN_IF_ERROR(insert.Run());
        IMPRINT_RETURN_IF_ERROR(ctx.Audit("station:" + station, "allowance.violation",
                                          {{"allowance", part.allowance_id},
                                           {"order", row->order_id},
                                           {"station", row->station},
                                           {"seq", found[i].seq},
                                           {"reason", reason}}));
      }
      return {};
    }));
    LogWarning("reconcile of allowance " + part.allowance_id +
               " refused: " + std::to_string(found.size()) + " violations");
    return result;
  }

  int64_t verified = 0, superseded = 0;
  for (const Checked& c : checked) {
    verified += c.verified ? 1 : 0;
    superseded += c.supersedes.empty() ? 0 : 1;
  }
  IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(auto now, ReadRow(ctx.db(), part.allowance_id));
    if (!now || now->progress.seq != row->progress.seq || now->state != row->state) {
      return Fail(Code::kAborted, "another reconcile of this allowance went first; ask again");
    }
    std::string actor = "station:" + station;
    IMPRINT_ASSIGN_OR_RETURN(
        auto insert,
        ctx.db().Prepare("INSERT INTO devices (device_id, order_id, station, profile, serial_hex, "
                         "spki_sha256, certificate_der, status, issued_ms, issue_audit_seq, "
                         "challenge, reported_ms, report_audit_seq, allowance_id) VALUES (?, ?, ?, "
                         "'device', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (size_t i = 0; i < fresh.size(); ++i) {
      const offline::LogEntry& e = fresh[i];
      if (!checked[i].supersedes.empty()) {
        IMPRINT_RETURN_IF_ERROR(Supersede(ctx, *row, e, checked[i], part.allowance_id));
      }
      IMPRINT_ASSIGN_OR_RETURN(uint64_t issued_seq,
                               ctx.Audit(actor, "certificate.issued",
                                         {{"order", row->order_id},
                                          {"device", e.device},
                                          {"serial", e.serial_hex},
                                          {"spki_sha256", HexEncode(checked[i].spki_sha256)},
                                          {"profile", "device"},
                                          {"allowance", part.allowance_id},
                                          {"offline_seq", e.seq},
                                          {"issued_ms", e.issued_ms}}));
      std::optional<uint64_t> report_seq;
      if (checked[i].verified) {
        IMPRINT_ASSIGN_OR_RETURN(report_seq, ctx.Audit(actor, "device.verified",
                                                       {{"order", row->order_id},
                                                        {"device", e.device},
                                                        {"serial", e.serial_hex},
                                                        {"allowance", part.allowance_id}}));
      }
      insert.Reset();
      insert.BindAll(e.device, row->order_id, row->station, e.serial_hex, checked[i].spki_sha256,
                     e.certificate_der, checked[i].verified ? "verified" : "issued", e.issued_ms,
                     static_cast<int64_t>(issued_seq), e.challenge);
      if (report_seq) {
        insert.Bind(11, ctx.now_ms()).Bind(12, static_cast<int64_t>(*report_seq));
      } else {
        insert.BindNull(11).BindNull(12);
      }
      insert.Bind(13, part.allowance_id);
      IMPRINT_RETURN_IF_ERROR(insert.Run());
      if (!checked[i].password_verifier.empty()) {
        IMPRINT_RETURN_IF_ERROR(KeepVerifier(ctx, actor, row->order_id, part.allowance_id, e.device,
                                             checked[i].password_verifier));
      }
    }
    // A superseded online certificate gives its unit of the order back: each device counts once.
    int64_t n = static_cast<int64_t>(fresh.size());
    IMPRINT_ASSIGN_OR_RETURN(
        auto order, ctx.db().Prepare("UPDATE orders SET issued = issued + ?, verified = verified "
                                     "+ ?, reserved = reserved - ? WHERE id = ?"));
    order.BindAll(n - superseded, verified, n, row->order_id);
    IMPRINT_RETURN_IF_ERROR(order.Run());
    IMPRINT_ASSIGN_OR_RETURN(
        auto progress, ctx.db().Prepare("UPDATE allowances SET used = used + ?, reconciled_seq = "
                                        "?, reconciled_hash = ? WHERE id = ?"));
    progress.BindAll(n, fresh.back().seq, fresh.back().hash, part.allowance_id);
    IMPRINT_RETURN_IF_ERROR(progress.Run());
    IMPRINT_RETURN_IF_ERROR(ctx.Audit(actor, "allowance.reconciled",
                                      {{"allowance", part.allowance_id},
                                       {"order", row->order_id},
                                       {"station", row->station},
                                       {"from_seq", fresh.front().seq},
                                       {"to_seq", fresh.back().seq},
                                       {"recorded", n},
                                       {"verified", verified},
                                       {"superseded", superseded}}));
    return {};
  }));
  result.reconciled_seq = fresh.back().seq;
  result.recorded = static_cast<int64_t>(fresh.size());
  return result;
}

}  // namespace imprint::ca
