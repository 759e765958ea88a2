#include "ca/revocation/ocsp_identity.h"

namespace imprint::ca {

Result<OcspIdentity> LoadOcspIdentity(const CaConfig& config, CaHsm& hsm,
                                      const CaCertificates& certs) {
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
  spec.issuer = &hsm.issuing();
  spec.issuer_cert = certs.issuing.get();
  return LoadDelegatedIdentity(hsm, spec);
}

}  // namespace imprint::ca
