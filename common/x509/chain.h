#pragma once
// Certificate path validation (RFC 5280 6) against a single trust anchor.

#include <vector>

#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::x509 {

// Verifies that `leaf` chains to `root` (the only trust anchor) through `intermediates`, with
// OpenSSL's strict X.509 checks and the current time. INVALID_ARGUMENT names the reason.
Status VerifyChain(X509* leaf, const std::vector<X509*>& intermediates, X509* root);

}  // namespace imprint::x509
