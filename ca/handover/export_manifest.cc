// The signed device manifest: a JSON array of flattened JWS objects, one per device, in the
// shape of Microchip's secure-element manifest (docs/handover.md "Manifest").

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "ca/handover/export_writers.h"
#include "ca/handover/manifest_identity.h"
#include "common/base64.h"
#include "common/jose/jws.h"
#include "common/utc_time.h"
#include "common/x509/encoding.h"
#include "common/x509/spki.h"

namespace imprint::ca {
namespace {

Result<std::string> Payload(const ExportContext& ctx, const ExportDevice& d,
                            const std::string& issuing_b64) {
  IMPRINT_ASSIGN_OR_RETURN(ByteView spki, x509::CertificateSpki(d.certificate_der));
  IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr key, x509::DecodePublicKey(spki));
  IMPRINT_ASSIGN_OR_RETURN(nlohmann::json jwk, jose::PublicJwk(key.get()));
  jwk["kid"] = "0";
  jwk["x5c"] = {Base64Encode(d.certificate_der), issuing_b64};
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
  if (!d.revocation_reason.empty()) {
    payload["revocation"] = {{"reason", d.revocation_reason},
                             {"time", FormatUtcTimeMs(d.revoked_ms)}};
  }
  return payload.dump();
}

// Builds and signs a page's entries on `threads` threads (each signature is a token round
// trip; the pool's sessions let them run side by side) and keeps them in page order.
Status SignPage(const ExportContext& ctx, const jose::JwsSigner& jws,
                const std::string& issuing_b64, const std::vector<ExportDevice>& page,
                std::vector<std::string>& entries, int threads) {
  entries.assign(page.size(), {});
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  Status first_error;
  std::mutex error_mu;
  auto work = [&] {
    for (size_t i = next++; i < page.size() && !failed; i = next++) {
      auto payload = Payload(ctx, page[i], issuing_b64);
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
  IMPRINT_ASSIGN_OR_RETURN(Bytes issuing_der, x509::CertificateToDer(ctx.certs.issuing.get()));
  std::string issuing_b64 = Base64Encode(issuing_der);
  int threads = std::clamp(ctx.config.sessions, 1, 16);

  IMPRINT_ASSIGN_OR_RETURN(ExportFile * file, ctx.dir.Create("manifest.json"));
  IMPRINT_RETURN_IF_ERROR(file->Write("["));
  std::vector<std::string> entries;
  IMPRINT_RETURN_IF_ERROR(ctx.Devices().ForEachPage([&](const auto& page) -> Status {
    IMPRINT_RETURN_IF_ERROR(SignPage(ctx, jws, issuing_b64, page, entries, threads));
    for (const std::string& entry : entries) {
      IMPRINT_RETURN_IF_ERROR(file->Write(ctx.summary.written++ == 0 ? "\n" : ",\n"));
      IMPRINT_RETURN_IF_ERROR(file->Write(entry));
    }
    return {};
  }));
  return file->Write("\n]\n");
}

}  // namespace imprint::ca
