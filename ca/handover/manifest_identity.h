#pragma once
// The key that signs what the CA hands over (device manifests, evidence packs): labelled
// imprint-manifest in the token, made at `init` (or on first use by an older CA), P-256 where
// the token offers it (ES256, as Microchip's manifests use) and the CA's key type otherwise.
// Its certificate comes from the root key when the token holds it, else from the issuing CA
// (a CA whose root is offline), and is kept with that chain in <state_dir>/manifest-signer.pem.
// A certificate without kManifestSignerEku (made before it was required) is issued again.

#include <nlohmann/json.hpp>
#include <string>

#include "ca/ca_files.h"
#include "ca/config.h"
#include "ca/delegated_key.h"

namespace imprint::ca {

inline constexpr const char* kManifestKeyLabel = "imprint-manifest";
// The extended key usage that makes a certificate a manifest signer's: id-kp-documentSigning
// (RFC 9336). Only the manifest key's certificate carries it; `manifest verify` requires it, so
// a station, device or TLS key that also chains to the root cannot sign a manifest.
inline constexpr const char* kManifestSignerEku = "1.3.6.1.5.5.7.3.36";

inline std::string ManifestSignerPath(const CaConfig& config) {
  return config.state_dir + "/manifest-signer.pem";
}

// Needs the session's keys loaded (AdminSession::OpenToken).
Result<DelegatedIdentity> LoadManifestIdentity(const CaConfig& config, CaHsm& hsm,
                                               const CaCertificates& certs);

// The protected header fields naming a signer certificate (Microchip's manifest header):
// kid = base64url(subjectKeyIdentifier), x5t#S256 = base64url(SHA-256 of the DER).
Result<nlohmann::json> SignerHeader(const X509* signer_cert);

}  // namespace imprint::ca
