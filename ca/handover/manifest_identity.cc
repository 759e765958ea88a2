#include "ca/handover/manifest_identity.h"

#include "common/base64.h"
#include "common/pkcs11/keygen.h"
#include "common/pkcs11/mechanisms.h"
#include "common/pkcs11/objects.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

constexpr uint8_t kManifestKeyId = 6;

Result<p11::KeyType> ManifestKeyType(const CaConfig& config, CaHsm& hsm) {
  p11::TokenNeeds needs;
  p11::AddSigningKeyNeeds(needs, p11::KeyType::kEcP256, kManifestKeyLabel);
  if (p11::RequireMechanisms(hsm.pool().module(), hsm.pool().slot(), needs)) {
    return p11::KeyType::kEcP256;
  }
  return p11::ParseKeyType(config.key_type);
}

}  // namespace

Result<DelegatedIdentity> LoadManifestIdentity(const CaConfig& config, CaHsm& hsm,
                                               const CaCertificates& certs) {
  DelegatedKeySpec spec;
  spec.label = kManifestKeyLabel;
  spec.id = kManifestKeyId;
  IMPRINT_ASSIGN_OR_RETURN(spec.type, ManifestKeyType(config, hsm));
  spec.cert_path = ManifestSignerPath(config);
  spec.what = "manifest signing";
  spec.profile.key_usage = {"digitalSignature"};
  spec.profile.extended_key_usage = {kManifestSignerEku};
  spec.profile.lifetime = std::chrono::days(10 * 365);
  spec.renew_before = std::chrono::days(365);
  spec.subject = {{"CN", config.organization + " Manifest Signer"}, {"O", config.organization}};
  IMPRINT_ASSIGN_OR_RETURN(auto root, RootSignerInToken(hsm, certs));
  if (root) {
    spec.issuer = root.get();
    spec.issuer_cert = certs.root.get();
  } else {
    spec.issuer = &hsm.issuing();
    spec.issuer_cert = certs.issuing.get();
    IMPRINT_ASSIGN_OR_RETURN(spec.issuer_chain_pem, x509::CertificateToPem(certs.issuing.get()));
  }
  return LoadDelegatedIdentity(hsm, spec);
}

Result<nlohmann::json> SignerHeader(const X509* signer_cert) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(const_cast<X509*>(signer_cert));
  if (!ski) return Fail(Code::kFailedPrecondition, "the manifest signer certificate has no SKI");
  IMPRINT_ASSIGN_OR_RETURN(Bytes der, x509::CertificateToDer(signer_cert));
  return nlohmann::json{
      {"kid", Base64UrlEncode(ByteView(ASN1_STRING_get0_data(ski),
                                       static_cast<size_t>(ASN1_STRING_length(ski))))},
      {"x5t#S256", Base64UrlEncode(x509::Sha256(der))}};
}

}  // namespace imprint::ca
