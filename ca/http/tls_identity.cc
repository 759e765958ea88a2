#include "ca/http/tls_identity.h"

#include "common/file_util.h"

namespace imprint::ca {

Result<http::TlsIdentity> LoadTlsIdentity(const CaConfig& config, const std::string& listener) {
  auto cert = ReadWholeFile(config.TlsCertPath());
  auto key = ReadWholeFile(config.TlsKeyPath());
  if (!cert || !key) {
    return Fail(Code::kFailedPrecondition,
                listener + ": cannot load the CA's TLS identity (" + config.TlsCertPath() + ")");
  }
  http::TlsIdentity tls;
  tls.cert_pem = std::move(*cert);
  tls.key_pem = std::move(*key);
  return tls;
}

}  // namespace imprint::ca
