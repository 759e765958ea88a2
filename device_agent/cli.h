#pragma once
// imprint-agent's command line.

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <functional>
#include <memory>

#include "device_agent/device.h"

namespace imprint::agent {

// Returns the exit code: 0 success, 1 failure, 2 usage error. `make_service`, when set, makes
// each device's gRPC service (a test's hostile device); imprint-agent never sets it.
int RunCli(int argc, char** argv,
           std::function<std::unique_ptr<grpc::Service>(Device&)> make_service = {});

}  // namespace imprint::agent
