#include "ca/ocsp_identity.h"

#include <chrono>

#include "common/file_util.h"
#include "common/log.h"
#include "common/pkcs11/keygen.h"
#include "common/pkcs11/objects.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

constexpr uint8_t kOcspKeyId = 5;
constexpr auto kLifetime = std::chrono::days(365);
constexpr auto kRenewBefore = std::chrono::days(30);

std::string CertPath(const CaConfig& config) { return config.state_dir + "/ocsp-responder.pem"; }

// The certificate on disk, if it is for `key` and has more than kRenewBefore left.
x509::X509Ptr UsableCertificate(const CaConfig& config, EVP_PKEY* key) {
  auto pem = ReadWholeFile(CertPath(config));
  if (!pem) return nullptr;
  auto cert = x509::ParseCertificatePem(*pem);
  if (!cert || EVP_PKEY_eq(X509_get0_pubkey(cert->get()), key) != 1) return nullptr;
  auto renew_at = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                       kRenewBefore);
  if (X509_cmp_time(X509_get0_notAfter(cert->get()), &renew_at) <= 0) return nullptr;
  return std::move(*cert);
}

}  // namespace

Result<OcspIdentity> LoadOcspIdentity(const CaConfig& config, CaHsm& hsm,
                                      const CaCertificates& certs) {
  p11::ObjectRef ref{kOcspKeyLabel, std::nullopt};
  auto signer = p11::Pkcs11Signer::Create(hsm.pool(), ref);
  if (!signer && signer.error().code() == Code::kNotFound) {
    IMPRINT_ASSIGN_OR_RETURN(p11::KeyType type, p11::ParseKeyType(config.key_type));
    {
      IMPRINT_ASSIGN_OR_RETURN(auto lease, hsm.pool().Acquire());
      IMPRINT_RETURN_IF_ERROR(p11::GenerateKeyPair(lease, type, kOcspKeyLabel, Bytes{kOcspKeyId}));
    }
    LogInfo("OCSP responder key " + std::string(kOcspKeyLabel) + " made in the token");
    signer = p11::Pkcs11Signer::Create(hsm.pool(), ref);
  }
  if (!signer) return std::unexpected(signer.error());
  {
    IMPRINT_ASSIGN_OR_RETURN(auto lease, hsm.pool().Acquire());
    IMPRINT_RETURN_IF_ERROR(p11::RequireKeyStaysInToken(lease, CKO_PRIVATE_KEY, ref));
  }
  OcspIdentity identity{std::move(*signer), nullptr};
  identity.certificate = UsableCertificate(config, identity.signer->public_key());
  if (identity.certificate) return identity;

  x509::CertificateProfile profile;
  profile.key_usage = {"digitalSignature"};
  profile.extended_key_usage = {"OCSPSigning"};
  profile.ocsp_no_check = true;
  profile.lifetime = kLifetime;
  IMPRINT_ASSIGN_OR_RETURN(Bytes random, hsm.Random(x509::kSerialBytes));
  x509::CertificateRequest request;
  request.profile = &profile;
  request.subject.name = {{"CN", config.organization + " OCSP Responder"},
                          {"O", config.organization}};
  request.public_key = identity.signer->public_key();
  request.serial = x509::MakeSerial(random);
  IMPRINT_ASSIGN_OR_RETURN(identity.certificate,
                           x509::IssueCertificate(request, certs.issuing.get(), hsm.issuing()));
  IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::CertificateToPem(identity.certificate.get()));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(CertPath(config), pem, 0644));
  LogInfo("OCSP responder certificate " + HexEncode(request.serial) + " written to " +
          CertPath(config));
  return identity;
}

}  // namespace imprint::ca
