#include "ca/matter/pai.h"

#include <openssl/x509.h>

#include <ctime>

#include "common/file_util.h"
#include "common/identifier.h"
#include "common/pkcs11/keygen.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"
#include "common/x509/openssl_error.h"

namespace imprint::ca {
namespace {

using matter::AttestationIds;
using matter::AttestationKind;
using matter::HexId;

// PAI and PAA profiles (6.2.2.3-5): no expiry, so every DAC's notBefore falls inside them;
// backdated like any certificate, a DAC's notBefore never before its PAI's (IssueCertificate).
x509::CertificateProfile AttestationCaProfile(int path_length) {
  x509::CertificateProfile p;
  p.is_ca = true;
  p.path_length = path_length;
  p.key_usage = {"keyCertSign", "cRLSign"};
  p.lifetime = std::nullopt;
  return p;
}

std::vector<std::pair<std::string, std::string>> PaiSubject(const PaiSpec& spec) {
  std::vector<std::pair<std::string, std::string>> subject = {
      {"CN", spec.label}, {matter::kVendorIdOid, HexId(spec.vendor_id)}};
  if (spec.product_id) subject.emplace_back(matter::kProductIdOid, HexId(*spec.product_id));
  return subject;
}

Bytes KeyId(const std::string& label) { return x509::Sha256(AsBytes(label)); }

struct PendingPai {
  bool found = false;
  PaiSpec spec;
  std::string status;
  Bytes csr_der;
};

Result<PendingPai> LoadPai(sql::Database& db, const std::string& label) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto q, db.Prepare("SELECT vendor_id, product_id, status, csr_der FROM matter_pais "
                         "WHERE label = ?"));
  q.BindAll(label);
  PendingPai p;
  IMPRINT_ASSIGN_OR_RETURN(p.found, q.Step());
  if (!p.found) return p;
  p.spec.label = label;
  p.spec.vendor_id = static_cast<uint16_t>(q.ColumnInt64(0));
  if (!q.ColumnIsNull(1)) p.spec.product_id = static_cast<uint16_t>(q.ColumnInt64(1));
  p.status = q.ColumnText(2);
  p.csr_der = q.ColumnBlob(3);
  return p;
}

std::unexpected<Error> Refused(const std::string& what) {
  return Fail(Code::kInvalidArgument, "PAI refused: " + what);
}

bool ValidNow(const X509* cert) {
  return X509_cmp_current_time(X509_get0_notBefore(cert)) < 0 &&
         X509_cmp_current_time(X509_get0_notAfter(cert)) > 0;
}

// Everything `matter pai import` checks before it records anything.
Status CheckPaiForImport(const PendingPai& pending, ByteView pai_der, ByteView paa_der,
                         EVP_PKEY* token_key) {
  if (pending.status != "pending") return Refused(pending.spec.label + " is already imported");
  auto pai_ids = matter::CheckAttestationCertificate(pai_der, AttestationKind::kPai);
  if (!pai_ids) return Refused(pai_ids.error().message());
  auto paa_ids = matter::CheckAttestationCertificate(paa_der, AttestationKind::kPaa);
  if (!paa_ids) return Refused(paa_ids.error().message());
  if (pai_ids->vendor_id != pending.spec.vendor_id) {
    return Refused("its vendor id is not the " + HexId(pending.spec.vendor_id) +
                   " it was created with");
  }
  if (pai_ids->product_id != pending.spec.product_id) {
    return Refused("its product id is not the one it was created with");
  }
  if (paa_ids->vendor_id && paa_ids->vendor_id != pai_ids->vendor_id) {
    return Refused("the PAA's vendor id differs from the PAI's");
  }
  IMPRINT_ASSIGN_OR_RETURN(auto pai, x509::ParseCertificateDer(pai_der));
  IMPRINT_ASSIGN_OR_RETURN(auto paa, x509::ParseCertificateDer(paa_der));
  IMPRINT_ASSIGN_OR_RETURN(Bytes pai_spki, x509::PublicKeyToDer(X509_get0_pubkey(pai.get())));
  IMPRINT_ASSIGN_OR_RETURN(Bytes token_spki, x509::PublicKeyToDer(token_key));
  if (pai_spki != token_spki) return Refused("it certifies another key than the token's");
  if (X509_check_issued(paa.get(), pai.get()) != X509_V_OK ||
      X509_verify(pai.get(), X509_get0_pubkey(paa.get())) != 1) {
    x509::ClearOpenSslErrors();
    return Refused("it was not signed by the PAA given");
  }
  if (X509_verify(paa.get(), X509_get0_pubkey(paa.get())) != 1) {
    x509::ClearOpenSslErrors();
    return Refused("the PAA is not self-signed");
  }
  if (!ValidNow(pai.get()) || !ValidNow(paa.get())) {
    return Refused("the PAI or the PAA is not valid now");
  }
  return {};
}

Status RecordImport(WriteContext& ctx, const PendingPai& pending, ByteView pai_der,
                    ByteView paa_der, const std::string& actor) {
  IMPRINT_ASSIGN_OR_RETURN(auto update,
                           ctx.db().Prepare("UPDATE matter_pais SET status = 'active', "
                                            "certificate_der = ?, paa_der = ?, imported_ms = ? "
                                            "WHERE label = ? AND status = 'pending'"));
  update.BindAll(Bytes(pai_der.begin(), pai_der.end()), Bytes(paa_der.begin(), paa_der.end()),
                 ctx.now_ms(), pending.spec.label);
  IMPRINT_RETURN_IF_ERROR(update.Run());
  if (ctx.db().Changes() != 1) {
    return Fail(Code::kAborted, "PAI " + pending.spec.label + " changed during the import");
  }
  nlohmann::json detail = {{"label", pending.spec.label},
                           {"vendor_id", HexId(pending.spec.vendor_id)},
                           {"pai_sha256", HexEncode(x509::Sha256(pai_der))},
                           {"paa_sha256", HexEncode(x509::Sha256(paa_der))}};
  if (pending.spec.product_id) detail["product_id"] = HexId(*pending.spec.product_id);
  IMPRINT_RETURN_IF_ERROR(ctx.Audit(actor, "matter.pai_imported", detail));
  return {};
}

Result<std::unique_ptr<p11::Pkcs11Signer>> Signer(CaHsm& hsm, const std::string& key_label) {
  return p11::Pkcs11Signer::Create(hsm.pool(), p11::ObjectRef{key_label, std::nullopt});
}

Result<Bytes> PemToDer(const std::string& pem, const char* what) {
  auto cert = x509::ParseCertificatePem(pem);
  if (!cert) return Refused(std::string(what) + " is not a PEM certificate");
  return x509::CertificateToDer(cert->get());
}

constexpr const char* kTestPaaMetaKey = "matter_test_paa_pem";

}  // namespace

std::string PaiKeyLabel(const std::string& label) { return "matter-pai-" + label; }

Result<Bytes> CreatePai(const CaConfig& config, const PaiSpec& spec) {
  if (!IsValidIdentifier(spec.label)) {
    return Fail(Code::kInvalidArgument, "PAI label must be 1-64 of A-Z a-z 0-9 . _ : -");
  }
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "matter pai create"));
  IMPRINT_ASSIGN_OR_RETURN(auto existing, LoadPai(*s.db, spec.label));
  if (existing.found) return Fail(Code::kAlreadyExists, "PAI " + spec.label + " already exists");
  std::string key_label = PaiKeyLabel(spec.label);
  {
    IMPRINT_ASSIGN_OR_RETURN(auto lease, s.hsm->pool().Acquire());
    IMPRINT_RETURN_IF_ERROR(
        p11::GenerateKeyPair(lease, p11::KeyType::kEcP256, key_label, KeyId(key_label)));
  }
  // A key whose CSR or record failed is taken back, so the label can be used again.
  auto undo = [&](Error e) -> Result<Bytes> {
    if (auto lease = s.hsm->pool().Acquire()) (void)p11::DestroyObjects(*lease, key_label);
    return std::unexpected(std::move(e));
  };
  auto signer = Signer(*s.hsm, key_label);
  if (!signer) return undo(signer.error());
  auto csr = x509::BuildCsr(**signer, PaiSubject(spec));
  if (!csr) return undo(csr.error());
  IMPRINT_ASSIGN_OR_RETURN(Bytes spki, x509::SpkiSha256((*signer)->public_key()));
  auto written = s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(
        auto insert,
        ctx.db().Prepare("INSERT INTO matter_pais (label, vendor_id, product_id, status, csr_der, "
                         "created_ms) VALUES (?, ?, NULLIF(?, -1), 'pending', ?, ?)"));
    // No product id: -1 here, NULL in the store.
    insert.BindAll(spec.label, int64_t{spec.vendor_id},
                   spec.product_id ? int64_t{*spec.product_id} : int64_t{-1}, *csr, ctx.now_ms());
    IMPRINT_RETURN_IF_ERROR(insert.Run());
    nlohmann::json detail = {{"label", spec.label},
                             {"vendor_id", HexId(spec.vendor_id)},
                             {"key_label", key_label},
                             {"spki_sha256", HexEncode(spki)}};
    if (spec.product_id) detail["product_id"] = HexId(*spec.product_id);
    IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "matter.pai_created", detail));
    return {};
  });
  if (!written) return undo(written.error());
  return std::move(*csr);
}

Status ImportPai(const CaConfig& config, const std::string& label, const std::string& pai_pem,
                 const std::string& paa_pem) {
  IMPRINT_ASSIGN_OR_RETURN(Bytes pai_der, PemToDer(pai_pem, "the PAI"));
  IMPRINT_ASSIGN_OR_RETURN(Bytes paa_der, PemToDer(paa_pem, "the PAA"));
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "matter pai import"));
  IMPRINT_ASSIGN_OR_RETURN(auto pending, LoadPai(*s.db, label));
  if (!pending.found) {
    return Fail(Code::kNotFound, "no PAI " + label + " (matter pai create first)");
  }
  IMPRINT_ASSIGN_OR_RETURN(auto signer, Signer(*s.hsm, PaiKeyLabel(label)));
  IMPRINT_RETURN_IF_ERROR(CheckPaiForImport(pending, pai_der, paa_der, signer->public_key()));
  return s.Write(config, [&](WriteContext& ctx) {
    return RecordImport(ctx, pending, pai_der, paa_der, "admin");
  });
}

Result<TestPaaResult> CreateTestPaa(const CaConfig& config, uint16_t vendor_id) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "matter paa create-test"));
  TestPaaResult result;
  IMPRINT_ASSIGN_OR_RETURN(auto meta, s.db->Prepare("SELECT value FROM meta WHERE key = ?"));
  meta.BindAll(std::string(kTestPaaMetaKey));
  IMPRINT_ASSIGN_OR_RETURN(bool have_paa, meta.Step());
  x509::X509Ptr paa;
  bool made = false;
  if (have_paa) {
    result.paa_pem = meta.ColumnText(0);
    IMPRINT_ASSIGN_OR_RETURN(paa, x509::ParseCertificatePem(result.paa_pem));
  } else {
    {
      IMPRINT_ASSIGN_OR_RETURN(auto lease, s.hsm->pool().Acquire());
      IMPRINT_RETURN_IF_ERROR(p11::GenerateKeyPair(lease, p11::KeyType::kEcP256, kTestPaaKeyLabel,
                                                   KeyId(kTestPaaKeyLabel)));
    }
    IMPRINT_ASSIGN_OR_RETURN(auto signer, Signer(*s.hsm, kTestPaaKeyLabel));
    x509::CertificateProfile profile = AttestationCaProfile(1);
    IMPRINT_ASSIGN_OR_RETURN(Bytes random, s.hsm->Random(x509::kSerialBytes));
    x509::CertificateRequest request;
    request.profile = &profile;
    request.subject.name = {{"CN", "imprint test PAA (not for production)"},
                            {matter::kVendorIdOid, HexId(vendor_id)}};
    request.public_key = signer->public_key();
    request.serial = x509::MakeSerial(random);
    IMPRINT_ASSIGN_OR_RETURN(paa, x509::IssueCertificate(request, nullptr, *signer));
    IMPRINT_ASSIGN_OR_RETURN(result.paa_pem, x509::CertificateToPem(paa.get()));
    made = true;
  }
  IMPRINT_ASSIGN_OR_RETURN(Bytes paa_der, x509::CertificateToDer(paa.get()));
  IMPRINT_ASSIGN_OR_RETURN(auto paa_signer, Signer(*s.hsm, kTestPaaKeyLabel));

  // Every pending PAI of this vendor, certified by the test PAA as its operator would.
  std::vector<std::pair<PendingPai, Bytes>> certified;
  {
    IMPRINT_ASSIGN_OR_RETURN(
        auto q, s.db->Prepare("SELECT label FROM matter_pais WHERE status = 'pending' AND "
                              "vendor_id = ? ORDER BY label"));
    q.BindAll(int64_t{vendor_id});
    std::vector<std::string> labels;
    for (;;) {
      IMPRINT_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      labels.push_back(q.ColumnText(0));
    }
    x509::CertificateProfile profile = AttestationCaProfile(0);
    for (const std::string& label : labels) {
      IMPRINT_ASSIGN_OR_RETURN(auto pending, LoadPai(*s.db, label));
      IMPRINT_ASSIGN_OR_RETURN(auto csr, x509::ParseAndVerifyCsr(pending.csr_der));
      IMPRINT_ASSIGN_OR_RETURN(Bytes random, s.hsm->Random(x509::kSerialBytes));
      x509::CertificateRequest request;
      request.profile = &profile;
      request.subject.name = PaiSubject(pending.spec);
      request.public_key = csr.public_key.get();
      request.serial = x509::MakeSerial(random);
      IMPRINT_ASSIGN_OR_RETURN(Bytes pai_der,
                               x509::IssueCertificateDer(request, paa.get(), *paa_signer));
      IMPRINT_ASSIGN_OR_RETURN(auto pai_signer, Signer(*s.hsm, PaiKeyLabel(label)));
      IMPRINT_RETURN_IF_ERROR(
          CheckPaiForImport(pending, pai_der, paa_der, pai_signer->public_key()));
      certified.emplace_back(std::move(pending), std::move(pai_der));
    }
  }
  IMPRINT_RETURN_IF_ERROR(s.Write(config, [&](WriteContext& ctx) -> Status {
    if (made) {
      IMPRINT_ASSIGN_OR_RETURN(auto insert,
                               ctx.db().Prepare("INSERT INTO meta (key, value) VALUES (?, ?)"));
      insert.BindAll(std::string(kTestPaaMetaKey), result.paa_pem);
      IMPRINT_RETURN_IF_ERROR(insert.Run());
      IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "matter.test_paa_created",
                                        {{"vendor_id", HexId(vendor_id)},
                                         {"key_label", kTestPaaKeyLabel},
                                         {"paa_sha256", HexEncode(x509::Sha256(paa_der))}}));
    }
    for (const auto& [pending, pai_der] : certified) {
      IMPRINT_RETURN_IF_ERROR(RecordImport(ctx, pending, pai_der, paa_der, "admin:test-paa"));
    }
    return {};
  }));
  for (const auto& entry : certified) result.signed_pais.push_back(entry.first.spec.label);
  return result;
}

Result<PaiRecord> LoadPaiRecord(sql::Database& db, const std::string& label) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto q, db.Prepare("SELECT vendor_id, product_id, status, certificate_der, paa_der "
                         "FROM matter_pais WHERE label = ?"));
  q.BindAll(label);
  IMPRINT_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return Fail(Code::kNotFound, "no Matter PAI " + label);
  PaiRecord r;
  r.label = label;
  r.ids.vendor_id = static_cast<uint16_t>(q.ColumnInt64(0));
  if (!q.ColumnIsNull(1)) r.ids.product_id = static_cast<uint16_t>(q.ColumnInt64(1));
  r.status = q.ColumnText(2);
  if (r.status != "active") {
    return Fail(Code::kFailedPrecondition, "Matter PAI " + label + " is not imported yet");
  }
  r.certificate_der = q.ColumnBlob(3);
  r.paa_der = q.ColumnBlob(4);
  return r;
}

Result<const ActivePai*> MatterPais::Get(sql::Database& db, const std::string& label) {
  {
    std::lock_guard lock(mu_);
    auto it = pais_.find(label);
    if (it != pais_.end()) return it->second.get();
  }
  IMPRINT_ASSIGN_OR_RETURN(PaiRecord record, LoadPaiRecord(db, label));
  auto pai = std::make_unique<ActivePai>();
  pai->label = label;
  pai->ids = record.ids;
  pai->certificate_der = std::move(record.certificate_der);
  pai->paa_der = std::move(record.paa_der);
  IMPRINT_ASSIGN_OR_RETURN(pai->certificate, x509::ParseCertificateDer(pai->certificate_der));
  IMPRINT_ASSIGN_OR_RETURN(pai->paa, x509::ParseCertificateDer(pai->paa_der));
  IMPRINT_ASSIGN_OR_RETURN(pai->signer, Signer(hsm_, PaiKeyLabel(label)));
  std::lock_guard lock(mu_);
  auto [it, inserted] = pais_.emplace(label, std::move(pai));
  return it->second.get();
}

}  // namespace imprint::ca
