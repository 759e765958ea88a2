#pragma once
// `imprint-ca manifest verify`: checks a device manifest with nothing but the brand owner's
// root certificate and the manifest signer's certificate chain (exported beside it).

#include <cstdint>
#include <functional>
#include <string>

#include "common/error.h"

namespace imprint::ca {

struct ManifestFailure {
  int64_t index = 0;      // 0-based position in the array
  std::string unique_id;  // as the entry names it, escaped for a terminal
  std::string reason;     // escaped for a terminal
};

struct ManifestReport {
  int64_t entries = 0;
  int64_t failed = 0;
  std::string signer_sha256;  // hex SHA-256 of the signer certificate's DER
};

struct ManifestVerifyOptions {
  std::string manifest_path;
  std::string root_pem_path;
  std::string signer_pem_path;
  // Hex SHA-256 of the signer certificate the brand owner was given out of band (printed by
  // `export`); empty skips this second check.
  std::string signer_sha256;
  // Not empty: a Matter PAA (PEM) device certificates may chain to instead of the root: a
  // Matter order's DACs are a PAI's (docs/matter.md). The signer must still chain to the root.
  std::string matter_paa_pem_path = {};
};

// The signer first: its certificate chains to the root and carries the manifest signer's
// extended key usage (id-kp-documentSigning, which no station, device or TLS certificate of the
// CA has), and has the pinned fingerprint when one is given. INVALID_ARGUMENT when it does not,
// when a file is unreadable or the manifest is not a JSON array.
// Then per entry, each failure passed to `on_failure` as it is found (nothing is kept, so memory
// does not grow with the manifest): no object member appears twice; the protected header names
// the signer (x5t#S256) and an algorithm that fits its key; the signature verifies; the payload
// is JSON whose uniqueId matches the unprotected header's and no earlier entry's; the device
// certificate in x5c chains to the root, names that uniqueId as its subject CN, and holds the
// JWK's key.
Result<ManifestReport> VerifyManifest(
    const ManifestVerifyOptions& options,
    const std::function<void(const ManifestFailure&)>& on_failure);

}  // namespace imprint::ca
