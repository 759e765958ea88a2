#pragma once
// AgentLink: how the station reaches one device's agent, whatever carries it: gRPC over TCP
// (HOST:PORT) or the serial link (serial:PATH[@BAUD], docs/agent-protocol.md). Each call is one
// imprint.v1.DeviceAgent RPC with the station's retries, and ends as a grpc::Status.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/error.h"
#include "factory_station/retry.h"
#include "imprint/v1/agent.pb.h"

namespace imprint::station {

// The methods' numbers on the serial link: their order in agent.proto.
enum class AgentMethod : uint8_t {
  kGetIdentity = 1,
  kCreateKeyAndCsr = 2,
  kInstallCredentials = 3,
  kProveIdentity = 4,
  kCommit = 5,
  kAttest = 6,
  kGetKeyAttestation = 7,
  kAttestKey = 8,
};

class AgentLink {
 public:
  virtual ~AgentLink() = default;

  grpc::Status GetIdentity(imprint::v1::DeviceIdentity* out) {
    return Call(AgentMethod::kGetIdentity, imprint::v1::GetIdentityRequest(), out);
  }
  grpc::Status CreateKeyAndCsr(const imprint::v1::CreateKeyAndCsrRequest& in,
                               imprint::v1::CreateKeyAndCsrResponse* out) {
    return Call(AgentMethod::kCreateKeyAndCsr, in, out);
  }
  grpc::Status InstallCredentials(const imprint::v1::InstallCredentialsRequest& in,
                                  imprint::v1::InstallCredentialsResponse* out) {
    return Call(AgentMethod::kInstallCredentials, in, out);
  }
  grpc::Status ProveIdentity(const imprint::v1::ProveIdentityRequest& in,
                             imprint::v1::ProveIdentityResponse* out) {
    return Call(AgentMethod::kProveIdentity, in, out);
  }
  grpc::Status Commit(imprint::v1::CommitResponse* out) {
    return Call(AgentMethod::kCommit, imprint::v1::CommitRequest(), out);
  }
  grpc::Status Attest(const imprint::v1::AttestRequest& in, imprint::v1::AttestResponse* out) {
    return Call(AgentMethod::kAttest, in, out);
  }
  grpc::Status GetKeyAttestation(imprint::v1::KeyAttestationIdentity* out) {
    return Call(AgentMethod::kGetKeyAttestation, imprint::v1::GetKeyAttestationRequest(), out);
  }
  grpc::Status AttestKey(const imprint::v1::AttestKeyRequest& in,
                         imprint::v1::AttestKeyResponse* out) {
    return Call(AgentMethod::kAttestKey, in, out);
  }

 protected:
  // `request` and `response` are the method's own message types (the wrappers above).
  virtual grpc::Status Call(AgentMethod method, const google::protobuf::Message& request,
                            google::protobuf::Message* response) = 0;
};

// "serial:PATH[@BAUD]" reaches a device over its serial link, anything else is HOST:PORT.
// INVALID_ARGUMENT for a malformed address; a serial port that cannot be opened is UNAVAILABLE.
Result<std::unique_ptr<AgentLink>> OpenAgentLink(const std::string& address,
                                                 const RetryPolicy& retry);

}  // namespace imprint::station
