#pragma once
// Which public keys imprint accepts from devices and stations.

#include <string>

#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::x509 {

enum class KeyKind { kEcP256, kEcP384, kRsa };

struct KeyInfo {
  KeyKind kind;
  int bits;
  std::string Describe() const;  // "EC P-256", "RSA 3072"
};

struct KeyPolicy {
  int min_rsa_bits = 2048;
  // No profile issues for more; bigger keys only cost verification CPU, and the size is checked
  // before any signature is.
  int max_rsa_bits = 4096;
};

// Accepts EC P-256 and P-384 keys whose point is valid (on the curve, not infinity;
// SEC 1 3.2.2.1 partial validation) and RSA keys within [min_rsa_bits, max_rsa_bits].
// Everything else is INVALID_ARGUMENT with a message naming the problem.
Result<KeyInfo> CheckKeyPolicy(EVP_PKEY* key, const KeyPolicy& policy = {});

}  // namespace imprint::x509
