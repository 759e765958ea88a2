#pragma once
// The peer's certificate as gRPC's transport saw it.

#include <grpcpp/grpcpp.h>

#include <string>

#include "common/error.h"

namespace imprint::rpc {

// The client certificate (PEM) the TLS handshake received, or UNAUTHENTICATED when none.
Result<std::string> PeerCertificatePem(const grpc::ServerContext& context);

}  // namespace imprint::rpc
