#pragma once
// Who speaks for an allowance (docs/offline.md, "Who certifies the station's subordinate key"):
// the root certifies each station's subordinate key, as a CA of path length 0, so offline
// devices chain root -> subordinate -> device within the root's own path length of 1; the CA's
// document signer (the manifest key, certified by the root with id-kp-documentSigning) signs
// the allowance. Both keys live in the CA's token; a CA whose root key is not there (made with
// --external-root) cannot grant allowances in this version.

#include <memory>

#include "ca/ca_files.h"
#include "ca/config.h"
#include "ca/delegated_key.h"
#include "ca/hsm.h"
#include "common/x509/certificate_builder.h"

namespace imprint::ca {

struct AllowanceIssuer {
  std::unique_ptr<p11::Pkcs11Signer> root;
  const X509* root_certificate = nullptr;
  DelegatedIdentity document_signer;  // its certificate issued by the root itself
};

// The profile the root certifies a subordinate with: a CA of path length 0 that may certify
// (devices, and the CA's delegates for its devices' status), with the device profile's extended
// key usage only, naming the root's CRL. notAfter is the caller's (the allowance's end at fetch,
// none at renewal).
x509::CertificateProfile SubordinateProfile(const CaConfig& config);

// FAILED_PRECONDITION, saying why, when the root key is not in this token.
Result<AllowanceIssuer> LoadAllowanceIssuer(const CaConfig& config, CaHsm& hsm,
                                            const CaCertificates& certs);

}  // namespace imprint::ca
