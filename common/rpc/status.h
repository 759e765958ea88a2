#pragma once
// The one place an imprint Error becomes a grpc::Status and back. INTERNAL leaves the process
// as "internal error"; its detail is logged here, never sent.

#include <grpcpp/grpcpp.h>

#include "common/error.h"

namespace imprint::rpc {

grpc::Status ToGrpcStatus(const Error& error);
grpc::Status ToGrpcStatus(const Status& status);

// The caller's view of a failed RPC as an Error with the same canonical code.
Error FromGrpcStatus(const grpc::Status& status);

}  // namespace imprint::rpc
