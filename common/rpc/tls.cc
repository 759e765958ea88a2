#include "common/rpc/tls.h"

#include <fstream>
#include <sstream>

namespace imprint::rpc {

Result<std::string> ReadPemFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Code::kNotFound, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > (1u << 20)) return Fail(Code::kInvalidArgument, path + " is too large");
  return text;
}

Result<std::string> PeerCertificatePem(const grpc::ServerContext& context) {
  auto auth = context.auth_context();
  if (!auth) return Fail(Code::kUnauthenticated, "no client certificate");
  auto values = auth->FindPropertyValues("x509_pem_cert");
  if (values.empty()) return Fail(Code::kUnauthenticated, "no client certificate");
  return std::string(values.front().data(), values.front().size());
}

}  // namespace imprint::rpc
