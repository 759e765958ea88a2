#include "common/rpc/tls.h"

namespace imprint::rpc {

Result<std::string> PeerCertificatePem(const grpc::ServerContext& context) {
  auto auth = context.auth_context();
  if (!auth) return Fail(Code::kUnauthenticated, "no client certificate");
  auto values = auth->FindPropertyValues("x509_pem_cert");
  if (values.empty()) return Fail(Code::kUnauthenticated, "no client certificate");
  return std::string(values.front().data(), values.front().size());
}

}  // namespace imprint::rpc
