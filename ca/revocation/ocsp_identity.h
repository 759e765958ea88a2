#pragma once
// The delegated OCSP responder (RFC 6960 4.2.2.2): a key in the token, labelled imprint-ocsp
// and made the first time a CA serves OCSP, and its certificate from the issuing CA
// (id-kp-OCSPSigning, id-pkix-ocsp-nocheck, valid for a year) in
// <state_dir>/ocsp-responder.pem, issued again when it has less than 30 days left.

#include <optional>

#include "ca/ca_files.h"
#include "ca/config.h"
#include "ca/delegated_key.h"

namespace imprint::ca {

inline constexpr const char* kOcspKeyLabel = "imprint-ocsp";

using OcspIdentity = DelegatedIdentity;

Result<OcspIdentity> LoadOcspIdentity(const CaConfig& config, CaHsm& hsm,
                                      const CaCertificates& certs);

// The same key certified by the root (<state_dir>/ocsp-responder-root.pem), so the responder
// can answer for what the root signs beside the issuing CA: the subordinates of allowances
// (docs/offline.md). Null when the root key is not in this token (--external-root).
Result<std::optional<OcspIdentity>> LoadRootOcspIdentity(const CaConfig& config, CaHsm& hsm,
                                                         const CaCertificates& certs);

}  // namespace imprint::ca
