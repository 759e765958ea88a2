#include "ca/delegated_key.h"

#include "common/file_util.h"
#include "common/log.h"
#include "common/pkcs11/keygen.h"
#include "common/pkcs11/objects.h"
#include "common/x509/certificate_fields.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

// The certificate on disk, if it is for `key`, from `issuer`, carries every extended key usage
// the profile asks for, and has more than renew_before left.
x509::X509Ptr UsableCertificate(const DelegatedKeySpec& spec, EVP_PKEY* key) {
  auto pem = ReadWholeFile(spec.cert_path);
  if (!pem) return nullptr;
  auto cert = x509::ParseCertificatePem(*pem);
  if (!cert || EVP_PKEY_eq(X509_get0_pubkey(cert->get()), key) != 1) return nullptr;
  if (X509_check_issued(const_cast<X509*>(spec.issuer_cert), cert->get()) != X509_V_OK) {
    return nullptr;
  }
  for (const auto& usage : spec.profile.extended_key_usage) {
    if (!x509::HasExtendedKeyUsage(cert->get(), usage)) return nullptr;
  }
  auto renew_at =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + spec.renew_before);
  if (X509_cmp_time(X509_get0_notAfter(cert->get()), &renew_at) <= 0) return nullptr;
  return std::move(*cert);
}

}  // namespace

Result<DelegatedIdentity> LoadDelegatedIdentity(CaHsm& hsm, const DelegatedKeySpec& spec) {
  p11::ObjectRef ref{spec.label, std::nullopt};
  auto signer = p11::Pkcs11Signer::Create(hsm.pool(), ref);
  if (!signer && signer.error().code() == Code::kNotFound) {
    {
      IMPRINT_ASSIGN_OR_RETURN(auto lease, hsm.pool().Acquire());
      IMPRINT_RETURN_IF_ERROR(p11::GenerateKeyPair(lease, spec.type, spec.label, Bytes{spec.id}));
    }
    LogInfo(spec.what + " key " + spec.label + " made in the token");
    signer = p11::Pkcs11Signer::Create(hsm.pool(), ref);
  }
  if (!signer) return std::unexpected(signer.error());
  {
    IMPRINT_ASSIGN_OR_RETURN(auto lease, hsm.pool().Acquire());
    IMPRINT_RETURN_IF_ERROR(p11::RequireKeyStaysInToken(lease, CKO_PRIVATE_KEY, ref));
  }
  DelegatedIdentity identity{std::move(*signer), nullptr};
  identity.certificate = UsableCertificate(spec, identity.signer->public_key());
  if (identity.certificate) return identity;

  IMPRINT_ASSIGN_OR_RETURN(Bytes random, hsm.Random(x509::kSerialBytes));
  x509::CertificateRequest request;
  request.profile = &spec.profile;
  request.subject.name = spec.subject;
  request.public_key = identity.signer->public_key();
  request.serial = x509::MakeSerial(random);
  IMPRINT_ASSIGN_OR_RETURN(identity.certificate,
                           x509::IssueCertificate(request, spec.issuer_cert, *spec.issuer));
  IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::CertificateToPem(identity.certificate.get()));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(spec.cert_path, pem + spec.issuer_chain_pem, 0644));
  LogInfo(spec.what + " certificate " + HexEncode(request.serial) + " written to " +
          spec.cert_path);
  return identity;
}

Result<std::unique_ptr<p11::Pkcs11Signer>> RootSignerInToken(CaHsm& hsm,
                                                             const CaCertificates& certs) {
  p11::ObjectRef ref{kRootKeyLabel, std::nullopt};
  auto root = p11::Pkcs11Signer::Create(hsm.pool(), ref);
  if (!root) {
    if (root.error().code() == Code::kNotFound) return nullptr;
    return std::unexpected(root.error());
  }
  if (EVP_PKEY_eq((*root)->public_key(), X509_get0_pubkey(certs.root.get())) != 1) return nullptr;
  IMPRINT_ASSIGN_OR_RETURN(auto lease, hsm.pool().Acquire());
  IMPRINT_RETURN_IF_ERROR(p11::RequireKeyStaysInToken(lease, CKO_PRIVATE_KEY, ref));
  return std::move(*root);
}

}  // namespace imprint::ca
