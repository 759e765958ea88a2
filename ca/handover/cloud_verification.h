#pragma once
// `imprint-ca cloud verification-cert`: proof to AWS IoT or Azure DPS that whoever registers
// the issuing CA holds its key: a certificate whose subject CN is the code the cloud issued,
// signed by the issuing key in the token for a key pair made in memory and thrown away.

#include <string>

#include "ca/config.h"
#include "common/error.h"

namespace imprint::ca {

// INVALID_ARGUMENT for a code that is not 1-64 of [A-Za-z0-9-] (AWS: 64 hex digits; Azure: a
// hex string). Audited as cloud.verification_certificate with the code and serial before the
// file is written (atomically).
Status WriteCloudVerificationCert(const CaConfig& config, const std::string& code,
                                  const std::string& out_path);

}  // namespace imprint::ca
