#pragma once
// The CA's TLS identity (state_dir/tls-cert.pem, tls-key.pem, as `init` writes them) for its
// HTTPS listeners: the console and EST.

#include <string>

#include "ca/config.h"
#include "ca/http/server.h"

namespace imprint::ca {

// `listener` names the listener in the error: FAILED_PRECONDITION when either file cannot be
// read. The caller wipes key_pem once the server has taken its copy.
Result<http::TlsIdentity> LoadTlsIdentity(const CaConfig& config, const std::string& listener);

}  // namespace imprint::ca
