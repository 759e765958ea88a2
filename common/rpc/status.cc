#include "common/rpc/status.h"

#include "common/log.h"

namespace imprint::rpc {

grpc::Status ToGrpcStatus(const Error& error) {
  if (StaysInLogs(error.code())) {
    LogError("internal error: " + error.message());
    return grpc::Status(static_cast<grpc::StatusCode>(error.code()), "internal error");
  }
  return grpc::Status(static_cast<grpc::StatusCode>(error.code()), error.message());
}

grpc::Status ToGrpcStatus(const Status& status) {
  return status ? grpc::Status::OK : ToGrpcStatus(status.error());
}

Error FromGrpcStatus(const grpc::Status& status) {
  return Error(static_cast<Code>(status.error_code()), status.error_message());
}

}  // namespace imprint::rpc
