#pragma once
// `imprint-ca manifest verify`: checks a device manifest with nothing but the brand owner's
// root certificate and the manifest signer's certificate chain (exported beside it).

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace imprint::ca {

struct ManifestFailure {
  int64_t index = 0;      // 0-based position in the array
  std::string unique_id;  // as the entry names it, shown escaped
  std::string reason;
};

struct ManifestReport {
  int64_t entries = 0;
  std::vector<ManifestFailure> failures;  // every entry that did not verify
};

// Per entry: the protected header names the signer (x5t#S256) and an algorithm that fits its
// key; the signature verifies; the payload is JSON whose uniqueId matches the unprotected
// header's; the device certificate in x5c chains to the root through the rest of x5c and
// holds the JWK's key. The signer chain is checked against the root first: INVALID_ARGUMENT
// when it does not chain, when a file is unreadable or the manifest is not a JSON array.
// The manifest is read as a stream: memory does not grow with its size.
Result<ManifestReport> VerifyManifest(const std::string& manifest_path,
                                      const std::string& root_pem_path,
                                      const std::string& signer_pem_path);

}  // namespace imprint::ca
