// The signed device manifest: a JSON array of flattened JWS objects, one per device, in the
// shape of Microchip's secure-element manifest (docs/handover.md "Manifest").

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "ca/handover/export_writers.h"
#include "ca/handover/manifest_identity.h"
#include "ca/matter/order.h"
#include "ca/matter/pai.h"
#include "common/base64.h"
#include "common/jose/jws.h"
#include "common/matter/attestation_certificate.h"
#include "common/utc_time.h"
#include "common/x509/encoding.h"
#include "common/x509/spki.h"

namespace imprint::ca {
namespace {

// The certificate that issued each device, for its x5c: the issuing CA, or for a device a
// station issued offline (docs/offline.md), that station's subordinate CA, told apart by the
// issuer name (the subordinate's subject names its allowance).
class Issuers {
 public:
  static Result<Issuers> Load(const ExportContext& ctx) {
    Issuers out;
    IMPRINT_ASSIGN_OR_RETURN(Bytes issuing_der, x509::CertificateToDer(ctx.certs.issuing.get()));
    out.issuing_ = {Base64Encode(issuing_der)};
    // The renewed subordinate where there is one: it does not end with the allowance.
    IMPRINT_ASSIGN_OR_RETURN(auto rows,
                             ctx.db.Prepare("SELECT COALESCE(renewed_der, subordinate_der) FROM "
                                            "allowances WHERE order_id = ? AND subordinate_der "
                                            "IS NOT NULL"));
    rows.BindAll(ctx.order.id);
    for (;;) {
      IMPRINT_ASSIGN_OR_RETURN(bool row, rows.Step());
      if (!row) break;
      Bytes der = rows.ColumnBlob(0);
      IMPRINT_ASSIGN_OR_RETURN(auto cert, x509::ParseCertificateDer(der));
      IMPRINT_ASSIGN_OR_RETURN(std::string subject, NameKey(X509_get_subject_name(cert.get())));
      out.subordinates_[subject] = {Base64Encode(der)};
    }
    // A Matter order's DACs chain through its PAI to the PAA (docs/matter.md).
    IMPRINT_ASSIGN_OR_RETURN(auto matter, LoadMatterOrder(ctx.db, ctx.order.id));
    if (matter) {
      IMPRINT_ASSIGN_OR_RETURN(PaiRecord pai, LoadPaiRecord(ctx.db, matter->pai_label));
      out.matter_chain_ = {Base64Encode(pai.certificate_der), Base64Encode(pai.paa_der)};
      out.matter_ = {{"vendorId", matter::HexId(matter->vendor_id)},
                     {"productId", matter::HexId(matter->product_id)}};
    }
    return out;
  }

  // The certificates above the device's in its x5c.
  const std::vector<std::string>& For(const ExportDevice& d) const {
    if (!matter_chain_.empty()) return matter_chain_;  // every device of a Matter order
    if (subordinates_.empty()) return issuing_;        // no parse for an order issued online
    auto cert = x509::ParseCertificateDer(d.certificate_der);
    if (!cert) return issuing_;
    auto issuer = NameKey(X509_get_issuer_name(cert->get()));
    auto found = issuer ? subordinates_.find(*issuer) : subordinates_.end();
    return found == subordinates_.end() ? issuing_ : found->second;
  }
  // A Matter order's vendor and product id, for its entries; null otherwise.
  const nlohmann::json& matter() const { return matter_; }

 private:
  static Result<std::string> NameKey(const X509_NAME* name) {
    const unsigned char* der = nullptr;
    size_t len = 0;
    if (X509_NAME_get0_der(const_cast<X509_NAME*>(name), &der, &len) != 1) {
      return Fail(Code::kInternal, "X509_NAME_get0_der");
    }
    return std::string(reinterpret_cast<const char*>(der), len);
  }

  std::vector<std::string> issuing_;
  std::map<std::string, std::vector<std::string>> subordinates_;  // by subject DER
  std::vector<std::string> matter_chain_;                         // PAI, PAA
  nlohmann::json matter_;
};

Result<std::string> Payload(const ExportContext& ctx, const ExportDevice& d,
                            const Issuers& issuers) {
  IMPRINT_ASSIGN_OR_RETURN(ByteView spki, x509::CertificateSpki(d.certificate_der));
  IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr key, x509::DecodePublicKey(spki));
  IMPRINT_ASSIGN_OR_RETURN(nlohmann::json jwk, jose::PublicJwk(key.get()));
  jwk["kid"] = "0";
  jwk["x5c"] = {Base64Encode(d.certificate_der)};
  for (const std::string& above : issuers.For(d)) jwk["x5c"].push_back(above);
  const std::string& org = ctx.config.organization;
  nlohmann::json payload = {
      {"version", 1},
      {"model", ctx.order.product},
      {"partNumber", ctx.order.product},
      {"manufacturer", {{"organizationName", org}}},
      {"provisioner", {{"organizationName", org}, {"organizationalUnitName", d.station}}},
      {"provisioningTimestamp", FormatUtcTimeMs(d.issued_ms)},
      {"uniqueId", d.device_id},
      {"order", ctx.order.id},
      {"product", ctx.order.product},
      {"station", d.station},
      {"certificateSerial", d.serial_hex},
      {"status", Name(d.status)},
      {"publicKeySet", {{"keys", nlohmann::json::array({jwk})}}},
  };
  if (!issuers.matter().is_null()) payload["matter"] = issuers.matter();
  if (!d.label_code.empty()) {
    payload["label"] = {{"code", d.label_code},
                        {"boundTimestamp", FormatUtcTimeMs(d.label_bound_ms)}};
  }
  if (!d.revocation_reason.empty()) {
    payload["revocation"] = {{"reason", d.revocation_reason},
                             {"time", FormatUtcTimeMs(d.revoked_ms)}};
  }
  return payload.dump();
}

// Builds and signs a page's entries on `threads` threads (each signature is a token round
// trip; the pool's sessions let them run side by side) and keeps them in page order.
Status SignPage(const ExportContext& ctx, const jose::JwsSigner& jws, const Issuers& issuers,
                const std::vector<ExportDevice>& page, std::vector<std::string>& entries,
                int threads) {
  entries.assign(page.size(), {});
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  Status first_error;
  std::mutex error_mu;
  auto work = [&] {
    for (size_t i = next++; i < page.size() && !failed; i = next++) {
      auto payload = Payload(ctx, page[i], issuers);
      auto entry = payload ? jws.Sign(*payload, {{"uniqueId", page[i].device_id}})
                           : Result<nlohmann::json>(std::unexpected(payload.error()));
      if (!entry) {
        std::lock_guard lock(error_mu);
        if (!failed.exchange(true)) first_error = std::unexpected(entry.error());
        return;
      }
      entries[i] = entry->dump();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return first_error;
}

}  // namespace

Status WriteManifest(ExportContext& ctx, DelegatedIdentity& signer) {
  IMPRINT_ASSIGN_OR_RETURN(nlohmann::json header, SignerHeader(signer.certificate.get()));
  jose::JwsSigner jws(*signer.signer, std::move(header));
  IMPRINT_ASSIGN_OR_RETURN(Issuers issuers, Issuers::Load(ctx));
  int threads = std::clamp(ctx.config.sessions, 1, 16);

  IMPRINT_ASSIGN_OR_RETURN(ExportFile * file, ctx.dir.Create("manifest.json"));
  IMPRINT_RETURN_IF_ERROR(file->Write("["));
  std::vector<std::string> entries;
  IMPRINT_RETURN_IF_ERROR(ctx.Devices().ForEachPage([&](const auto& page) -> Status {
    IMPRINT_RETURN_IF_ERROR(SignPage(ctx, jws, issuers, page, entries, threads));
    for (const std::string& entry : entries) {
      IMPRINT_RETURN_IF_ERROR(file->Write(ctx.summary.written++ == 0 ? "\n" : ",\n"));
      IMPRINT_RETURN_IF_ERROR(file->Write(entry));
    }
    return {};
  }));
  return file->Write("\n]\n");
}

}  // namespace imprint::ca
