#include "ca/allowance/issuer.h"

#include "ca/handover/manifest_identity.h"

namespace imprint::ca {

x509::CertificateProfile SubordinateProfile(const CaConfig& config) {
  x509::CertificateProfile profile;
  profile.is_ca = true;
  profile.path_length = 0;
  profile.key_usage = {"keyCertSign", "cRLSign"};
  profile.extended_key_usage = config.profiles.at("device").extended_key_usage;
  profile.crl_url = config.root_crl_url;
  profile.lifetime = std::nullopt;
  return profile;
}

Result<AllowanceIssuer> LoadAllowanceIssuer(const CaConfig& config, CaHsm& hsm,
                                            const CaCertificates& certs) {
  AllowanceIssuer issuer;
  IMPRINT_ASSIGN_OR_RETURN(issuer.root, RootSignerInToken(hsm, certs));
  if (!issuer.root) {
    return Fail(Code::kFailedPrecondition,
                "allowances need the root key in this CA's token to certify each station's "
                "subordinate key, and this CA's root is kept elsewhere (init --external-root); "
                "docs/offline.md says what such a CA can do");
  }
  issuer.root_certificate = certs.root.get();
  IMPRINT_ASSIGN_OR_RETURN(issuer.document_signer, LoadManifestIdentity(config, hsm, certs));
  // With the root in the token the manifest key's certificate comes from the root: what a
  // relying party checks of an allowance's signer.
  if (X509_check_issued(const_cast<X509*>(certs.root.get()),
                        issuer.document_signer.certificate.get()) != X509_V_OK) {
    return Fail(Code::kFailedPrecondition,
                "the document signer's certificate is not from the root; remove " +
                    ManifestSignerPath(config) + " and run the command again to have it reissued");
  }
  return issuer;
}

}  // namespace imprint::ca
