#include "common/offline/ocsp_delegate.h"

#include <openssl/x509v3.h>

#include "common/x509/encoding.h"

namespace imprint::offline {
namespace {

// A responder certificate is a few hundred bytes; anything near this is not one.
constexpr size_t kMaxDelegateBytes = 4096;

Status Refuse(const std::string& why) {
  return Fail(Code::kInvalidArgument, "OCSP delegate refused: " + why);
}

}  // namespace

x509::CertificateProfile OcspDelegateProfile() {
  x509::CertificateProfile profile;
  profile.key_usage = {"digitalSignature"};
  profile.extended_key_usage = {"OCSPSigning"};
  profile.ocsp_no_check = true;
  return profile;
}

Status CheckOcspDelegate(ByteView der, const X509* subordinate, const X509* responder) {
  if (der.size() > kMaxDelegateBytes) return Refuse("larger than a certificate");
  auto cert = x509::ParseCertificateDer(der);
  if (!cert) return Refuse("not a certificate: " + cert.error().message());
  X509* delegate = cert->get();
  if (X509_NAME_cmp(X509_get_issuer_name(delegate), X509_get_subject_name(subordinate)) != 0) {
    return Refuse("its issuer is not the allowance's subordinate CA");
  }
  EVP_PKEY* subordinate_key = X509_get0_pubkey(subordinate);
  if (subordinate_key == nullptr || X509_verify(delegate, subordinate_key) != 1) {
    return Refuse("not signed by the subordinate CA's key");
  }
  const EVP_PKEY* key = X509_get0_pubkey(delegate);
  if (key == nullptr || EVP_PKEY_eq(key, X509_get0_pubkey(responder)) != 1) {
    return Refuse("not for this CA's OCSP responder key");
  }
  if (X509_check_ca(delegate) != 0) return Refuse("it is a CA certificate");
  if ((X509_get_extension_flags(delegate) & EXFLAG_XKUSAGE) == 0 ||
      X509_get_extended_key_usage(delegate) != XKU_OCSP_SIGN) {
    return Refuse("its extended key usage is not OCSPSigning alone");
  }
  return {};
}

}  // namespace imprint::offline
