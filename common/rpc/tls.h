#pragma once
// Helpers for TLS material handed to gRPC: PEM files read once at start-up, and the peer's
// certificate as gRPC's transport saw it.

#include <grpcpp/grpcpp.h>

#include <string>

#include "common/error.h"

namespace imprint::rpc {

// Reads a whole PEM file (at most 1 MiB). NOT_FOUND when missing.
Result<std::string> ReadPemFile(const std::string& path);

// The client certificate (PEM) the TLS handshake received, or UNAUTHENTICATED when none.
Result<std::string> PeerCertificatePem(const grpc::ServerContext& context);

}  // namespace imprint::rpc
