// Key attestation: a device proves its key lives in its TPM before the CA signs
// (docs/attestation.md; the checks are ca/attestation/tpm_attestation.h).

#include "ca/authority.h"
#include "common/identifier.h"
#include "common/log.h"

namespace imprint::ca {

Status Authority::LoadTpmRoots() {
  if (config_.tpm_roots.empty()) return {};
  IMPRINT_ASSIGN_OR_RETURN(
      tpm_, TpmAttestation::Load(config_.tpm_roots, [this](size_t n) { return hsm_.Random(n); }));
  LogInfo("key attestation: " + std::to_string(tpm_->root_count()) + " TPM maker root(s) from " +
          config_.tpm_roots);
  return {};
}

Status Authority::AuditAttestationRefused(const std::string& station, const std::string& order,
                                          const std::string& device, const Error& why) {
  return writer_.Submit([&](WriteContext& ctx) -> Status {
    IMPRINT_RETURN_IF_ERROR(ctx.Audit(
        "station:" + station, "attestation.refused",
        {{"order", order}, {"device", device}, {"kind", "tpm"}, {"reason", why.message()}}));
    return {};
  });
}

Result<TpmChallenge> Authority::BeginKeyAttestation(const std::string& station,
                                                    const std::string& order,
                                                    const std::string& device,
                                                    ByteView ek_certificate_der,
                                                    ByteView ak_public) {
  if (!IsValidIdentifier(order)) return Fail(Code::kInvalidArgument, "invalid order_id");
  if (!IsValidIdentifier(device)) return Fail(Code::kInvalidArgument, "invalid device_id");
  if (ek_certificate_der.size() > 8192 || ak_public.size() > 1024) {
    return Fail(Code::kInvalidArgument, "EK certificate or AK too large");
  }
  {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(
        auto q, db->Prepare("SELECT 1 FROM order_stations WHERE order_id = ? AND station = ?"));
    q.BindAll(order, station);
    IMPRINT_ASSIGN_OR_RETURN(bool allowed, q.Step());
    if (!allowed) return Fail(Code::kPermissionDenied, "station not allowed on this order");
  }
  if (!tpm_) {
    return Fail(Code::kFailedPrecondition,
                "this CA checks no key attestation: [attestation] tpm_roots is not set");
  }
  auto challenge = tpm_->Begin(station, device, ek_certificate_der, ak_public);
  if (!challenge && challenge.error().code() == Code::kInvalidArgument) {
    IMPRINT_RETURN_IF_ERROR(AuditAttestationRefused(station, order, device, challenge.error()));
  }
  return challenge;
}

Result<std::optional<AttestedKey>> Authority::CheckKeyAttestation(const std::string& station,
                                                                  const IssueRequest& r,
                                                                  const std::string& profile,
                                                                  bool order_requires,
                                                                  EVP_PKEY* csr_key) {
  bool required = order_requires || config_.tpm_attested_profiles.contains(profile);
  if (!r.tpm_evidence) {
    if (!required) return std::optional<AttestedKey>();
    Error why(
        Code::kFailedPrecondition,
        "attestation required: " + (order_requires ? "order " + r.order_id : "profile " + profile) +
            " takes only keys proven to live in a TPM, and the device sent no evidence");
    IMPRINT_RETURN_IF_ERROR(AuditAttestationRefused(station, r.order_id, r.device_id, why));
    return std::unexpected(why);
  }
  if (!tpm_) {
    return Fail(Code::kFailedPrecondition,
                "this CA checks no key attestation: [attestation] tpm_roots is not set");
  }
  auto checked = tpm_->Check(station, r.device_id, *r.tpm_evidence, csr_key);
  if (!checked) {
    IMPRINT_RETURN_IF_ERROR(
        AuditAttestationRefused(station, r.order_id, r.device_id, checked.error()));
    return std::unexpected(checked.error());
  }
  return std::optional<AttestedKey>(std::move(*checked));
}

}  // namespace imprint::ca
