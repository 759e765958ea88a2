// GatherEvidence: every fact the evidence pack states, read at export time from the store,
#include "common/utc_time.h"
// the token and the audit log.

#include <cstring>

#include "ca/admin.h"
#include "ca/admin_session.h"
#include "ca/audit/commands.h"
#include "ca/handover/evidence.h"
#include "ca/handover/export_rows.h"
#include "ca/handover/manifest_identity.h"
#include "ca/matter/order.h"
#include "ca/revocation/ocsp_identity.h"
#include "ca/secret_generator.h"
#include "ca/store/store.h"
#include "common/matter/attestation_certificate.h"
#include "common/pkcs11/objects.h"
#include "common/pkcs11/signer.h"
#include "common/x509/encoding.h"
#include "common/x509/key_policy.h"
#include "common/x509/spki.h"

#ifndef IMPRINT_VERSION
#define IMPRINT_VERSION "unknown"
#endif

namespace imprint::ca {
namespace {

Result<KeyFacts> ReadKey(CaHsm& hsm, const char* label, bool secret) {
  KeyFacts k;
  k.label = label;
  p11::ObjectRef ref{label, std::nullopt};
  IMPRINT_ASSIGN_OR_RETURN(auto lease, hsm.pool().Acquire());
  IMPRINT_ASSIGN_OR_RETURN(
      p11::KeyProtection p,
      p11::ReadKeyProtection(lease, secret ? CKO_SECRET_KEY : CKO_PRIVATE_KEY, ref));
  k.sensitive = p.sensitive;
  k.extractable = p.extractable;
  k.never_extractable = p.never_extractable;
  k.always_sensitive = p.always_sensitive;
  if (secret) {
    IMPRINT_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, p11::FindObject(lease, CKO_SECRET_KEY, ref));
    IMPRINT_ASSIGN_OR_RETURN(Bytes len, p11::GetAttribute(lease, key, CKA_VALUE_LEN));
    CK_ULONG bytes = 0;
    if (len.size() == sizeof(bytes)) std::memcpy(&bytes, len.data(), sizeof(bytes));
    k.type = "HMAC " + std::to_string(bytes * 8);
    return k;
  }
  IMPRINT_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE pub, p11::FindObject(lease, CKO_PUBLIC_KEY, ref));
  IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr key, p11::ReadPublicKey(lease, pub));
  auto info = x509::CheckKeyPolicy(key.get(), {.min_rsa_bits = 2048, .max_rsa_bits = 8192});
  k.type = info ? info->Describe() : "unrecognised key";
  return k;
}

// The CA's keys as the token describes them; the optional ones only when present.
Result<std::vector<KeyFacts>> CaKeys(CaHsm& hsm) {
  std::vector<KeyFacts> keys;
  for (const char* label : {kRootKeyLabel, kIssuingKeyLabel, kAuditKeyLabel, kManifestKeyLabel,
                            kOcspKeyLabel, kVerifierKeyLabel}) {
    bool secret = std::string_view(label) == kVerifierKeyLabel;
    auto key = ReadKey(hsm, label, secret);
    if (!key && key.error().code() == Code::kNotFound) continue;  // an offline root, no OCSP
    if (!key) return std::unexpected(key.error());
    keys.push_back(std::move(*key));
  }
  return keys;
}

Result<sql::Statement> Query(sql::Database& db, const char* text, const std::string& order) {
  IMPRINT_ASSIGN_OR_RETURN(auto stmt, db.Prepare(text));
  stmt.BindAll(order);
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Fail(Code::kInternal, "aggregate query returned no row");
  return stmt;
}

Status StoreFacts(sql::Database& db, EvidenceFacts& f) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto d, Query(db,
                    "SELECT COUNT(*), COUNT(DISTINCT spki_sha256), "
                    "COALESCE(SUM(CASE WHEN status = 'verified' THEN 1 ELSE 0 END), 0), "
                    "COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0), "
                    "COALESCE(MIN(issued_ms), 0), COALESCE(MAX(issued_ms), 0) FROM devices WHERE "
                    "order_id = ?",
                    f.order_id));
  f.devices = d.ColumnInt64(0);
  f.distinct_device_keys = d.ColumnInt64(1);
  f.verified = d.ColumnInt64(2);
  IMPRINT_ASSIGN_OR_RETURN(
      auto attested, Query(db,
                           "SELECT COUNT(*) FROM device_attestations a JOIN devices d ON "
                           "d.device_id = a.device_id WHERE d.order_id = ? AND a.kind = 'tpm'",
                           f.order_id));
  f.tpm_attested_keys = attested.ColumnInt64(0);
  f.failed = d.ColumnInt64(3);
  f.first_issued_ms = d.ColumnInt64(4);
  f.last_issued_ms = d.ColumnInt64(5);
  IMPRINT_ASSIGN_OR_RETURN(
      auto v, Query(db,
                    "SELECT COUNT(*), COUNT(DISTINCT v.verifier), COUNT(DISTINCT v.device_id) "
                    "FROM secret_verifiers v JOIN devices d ON d.device_id = v.device_id "
                    "WHERE d.order_id = ?",
                    f.order_id));
  f.password_verifiers = v.ColumnInt64(0);
  f.distinct_password_verifiers = v.ColumnInt64(1);
  f.devices_with_password = v.ColumnInt64(2);
  IMPRINT_ASSIGN_OR_RETURN(auto matter, LoadMatterOrder(db, f.order_id));
  if (matter) {
    f.matter = true;
    f.matter_pai = matter->pai_label;
    f.matter_vendor_id = matter::HexId(matter->vendor_id);
    f.matter_product_id = matter::HexId(matter->product_id);
    f.matter_cd_sha256 = HexEncode(x509::Sha256(matter->cd_der));
    f.matter_iterations = matter->iterations;
    IMPRINT_ASSIGN_OR_RETURN(
        auto m, Query(db,
                      "SELECT COUNT(*), COUNT(DISTINCT passcode_mac) FROM matter_devices "
                      "WHERE order_id = ?",
                      f.order_id));
    f.matter_devices = m.ColumnInt64(0);
    f.matter_distinct_passcodes = m.ColumnInt64(1);
  }
  IMPRINT_ASSIGN_OR_RETURN(
      auto h, Query(db, "SELECT COUNT(*) FROM device_history WHERE order_id = ?", f.order_id));
  f.reworked = h.ColumnInt64(0);
  f.certificates_issued = f.devices + f.reworked;
  IMPRINT_ASSIGN_OR_RETURN(
      auto r,
      db.Prepare("SELECT reason, COUNT(*) FROM revocations WHERE order_id = ? GROUP BY reason"));
  r.BindAll(f.order_id);
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, r.Step());
    if (!row) break;
    f.revoked_by_reason[r.ColumnText(0)] = r.ColumnInt64(1);
    f.revoked += r.ColumnInt64(1);
  }
  // Key types from the certificates themselves, a page at a time.
  return OrderDevices(db, f.order_id).ForEach([&](const ExportDevice& dev) -> Status {
    auto spki = x509::CertificateSpki(dev.certificate_der);
    auto key = spki ? x509::DecodePublicKey(*spki) : std::unexpected(spki.error());
    auto info = key ? x509::CheckKeyPolicy(key->get()) : std::unexpected(key.error());
    ++f.device_key_types[info ? info->Describe() : "refused by the key policy"];
    return {};
  });
}

Status AuditFacts(const CaConfig& config, AdminSession& session, sql::Database& db,
                  EvidenceFacts& f) {
  auto summary = AuditVerify(config, session);
  if (!summary) {
    f.audit_verified = false;
    f.audit_error = summary.error().message();
    return {};
  }
  f.audit_verified = true;
  f.audit_records = summary->records;
  f.audit_head_seq = summary->records;
  f.audit_checkpoint_seq = summary->last_sealed;
  f.audit_unsealed = summary->unsealed;
  IMPRINT_ASSIGN_OR_RETURN(auto head, db.Prepare("SELECT hash FROM audit_log WHERE seq = ?"));
  head.BindAll(static_cast<int64_t>(f.audit_head_seq));
  IMPRINT_ASSIGN_OR_RETURN(bool row, head.Step());
  if (row) f.audit_head_hash = HexEncode(head.ColumnBlob(0));
  IMPRINT_ASSIGN_OR_RETURN(auto cp,
                           db.Prepare("SELECT time_ms FROM audit_checkpoints WHERE seq = ?"));
  cp.BindAll(static_cast<int64_t>(f.audit_checkpoint_seq));
  IMPRINT_ASSIGN_OR_RETURN(row, cp.Step());
  if (row) f.audit_checkpoint_ms = cp.ColumnInt64(0);
  return {};
}

nlohmann::json ProfileJson(const x509::CertificateProfile& p) {
  return {{"key_usage", p.key_usage},
          {"extended_key_usage", p.extended_key_usage},
          {"lifetime_days", p.lifetime ? nlohmann::json(p.lifetime->count())
                                       : nlohmann::json("none (99991231235959Z)")},
          {"crl_url", p.crl_url},
          {"ocsp_url", p.ocsp_url}};
}

}  // namespace

Result<EvidenceFacts> GatherEvidence(const CaConfig& config, AdminSession& session,
                                     const std::string& order_id) {
  CaHsm& hsm = *session.hsm;
  sql::Database& db = *session.db;
  IMPRINT_ASSIGN_OR_RETURN(OrderStatus order, OrderShow(db, order_id));
  EvidenceFacts f;
  f.order_id = order.id;
  f.product = order.product;
  f.order_status = std::string(Name(order.state));
  f.quota = order.quota;
  f.organization = config.organization;
  f.password_alphabet = std::string(kPasswordAlphabet);
  f.password_length = config.password_length;
  f.password_entropy_bits = PasswordEntropyBits(config.password_length);
  f.password_source = "C_GenerateRandom of PKCS#11 token " + config.token_uri;
  f.device_profile = ProfileJson(config.profiles.at("device"));
  f.software_version = IMPRINT_VERSION;
  f.generated_ms = NowMs();

  IMPRINT_ASSIGN_OR_RETURN(f.ca_keys, CaKeys(hsm));
  f.ca_signature_algorithm = std::string(x509::SignatureAlgorithmName(hsm.issuing().algorithm()));
  IMPRINT_RETURN_IF_ERROR(StoreFacts(db, f));
  IMPRINT_RETURN_IF_ERROR(AuditFacts(config, session, db, f));
  return f;
}

}  // namespace imprint::ca
