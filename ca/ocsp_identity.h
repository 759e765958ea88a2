#pragma once
// The delegated OCSP responder (RFC 6960 4.2.2.2): a key in the token, labelled imprint-ocsp
// and made the first time a CA serves OCSP, and its certificate from the issuing CA
// (id-kp-OCSPSigning, id-pkix-ocsp-nocheck, valid for a year) in
// <state_dir>/ocsp-responder.pem, issued again when it has less than 30 days left.

#include <memory>

#include "ca/ca_files.h"
#include "ca/config.h"
#include "ca/hsm.h"
#include "common/pkcs11/signer.h"
#include "common/x509/openssl_types.h"

namespace imprint::ca {

inline constexpr const char* kOcspKeyLabel = "imprint-ocsp";

struct OcspIdentity {
  std::unique_ptr<p11::Pkcs11Signer> signer;
  x509::X509Ptr certificate;
};

Result<OcspIdentity> LoadOcspIdentity(const CaConfig& config, CaHsm& hsm,
                                      const CaCertificates& certs);

}  // namespace imprint::ca
