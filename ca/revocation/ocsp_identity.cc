#include "ca/revocation/ocsp_identity.h"

namespace imprint::ca {

namespace {

Result<DelegatedKeySpec> OcspSpec(const CaConfig& config) {
  DelegatedKeySpec spec;
  spec.label = kOcspKeyLabel;
  spec.id = 5;
  IMPRINT_ASSIGN_OR_RETURN(spec.type, p11::ParseKeyType(config.key_type));
  spec.cert_path = config.state_dir + "/ocsp-responder.pem";
  spec.what = "OCSP responder";
  spec.profile.key_usage = {"digitalSignature"};
  spec.profile.extended_key_usage = {"OCSPSigning"};
  spec.profile.ocsp_no_check = true;
  spec.profile.lifetime = std::chrono::days(365);
  spec.subject = {{"CN", config.organization + " OCSP Responder"}, {"O", config.organization}};
  return spec;
}

}  // namespace

Result<OcspIdentity> LoadOcspIdentity(const CaConfig& config, CaHsm& hsm,
                                      const CaCertificates& certs) {
  IMPRINT_ASSIGN_OR_RETURN(DelegatedKeySpec spec, OcspSpec(config));
  spec.issuer = &hsm.issuing();
  spec.issuer_cert = certs.issuing.get();
  return LoadDelegatedIdentity(hsm, spec);
}

Result<std::optional<OcspIdentity>> LoadRootOcspIdentity(const CaConfig& config, CaHsm& hsm,
                                                         const CaCertificates& certs) {
  IMPRINT_ASSIGN_OR_RETURN(auto root, RootSignerInToken(hsm, certs));
  if (!root) return std::optional<OcspIdentity>();
  IMPRINT_ASSIGN_OR_RETURN(DelegatedKeySpec spec, OcspSpec(config));
  spec.cert_path = config.state_dir + "/ocsp-responder-root.pem";
  spec.what = "OCSP responder for the root";
  spec.issuer = root.get();
  spec.issuer_cert = certs.root.get();
  IMPRINT_ASSIGN_OR_RETURN(OcspIdentity identity, LoadDelegatedIdentity(hsm, spec));
  return std::optional<OcspIdentity>(std::move(identity));
}

}  // namespace imprint::ca
