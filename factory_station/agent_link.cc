#include "factory_station/agent_link.h"

#include "factory_station/serial_link.h"
#include "imprint/v1/agent.grpc.pb.h"

namespace imprint::station {
namespace {

namespace v1 = imprint::v1;

class GrpcAgentLink final : public AgentLink {
 public:
  GrpcAgentLink(const std::string& address, const RetryPolicy& retry)
      : retry_(retry),
        channel_(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                           RetryChannelArguments(retry))),
        stub_(v1::DeviceAgent::NewStub(channel_)) {}

 protected:
  grpc::Status Call(AgentMethod method, const google::protobuf::Message& request,
                    google::protobuf::Message* response) override {
    return CallWithRetry(retry_, *channel_, [&](grpc::ClientContext& c) {
      return Dispatch(c, method, request, response);
    });
  }

 private:
  template <typename Request, typename Response, typename Rpc>
  grpc::Status Invoke(Rpc rpc, grpc::ClientContext& c, const google::protobuf::Message& request,
                      google::protobuf::Message* response) {
    return ((*stub_).*rpc)(&c, static_cast<const Request&>(request),
                           static_cast<Response*>(response));
  }

  grpc::Status Dispatch(grpc::ClientContext& c, AgentMethod method,
                        const google::protobuf::Message& in, google::protobuf::Message* out) {
    using Stub = v1::DeviceAgent::Stub;
    switch (method) {
      case AgentMethod::kGetIdentity:
        return Invoke<v1::GetIdentityRequest, v1::DeviceIdentity>(&Stub::GetIdentity, c, in, out);
      case AgentMethod::kCreateKeyAndCsr:
        return Invoke<v1::CreateKeyAndCsrRequest, v1::CreateKeyAndCsrResponse>(
            &Stub::CreateKeyAndCsr, c, in, out);
      case AgentMethod::kInstallCredentials:
        return Invoke<v1::InstallCredentialsRequest, v1::InstallCredentialsResponse>(
            &Stub::InstallCredentials, c, in, out);
      case AgentMethod::kProveIdentity:
        return Invoke<v1::ProveIdentityRequest, v1::ProveIdentityResponse>(&Stub::ProveIdentity, c,
                                                                           in, out);
      case AgentMethod::kCommit:
        return Invoke<v1::CommitRequest, v1::CommitResponse>(&Stub::Commit, c, in, out);
      case AgentMethod::kAttest:
        return Invoke<v1::AttestRequest, v1::AttestResponse>(&Stub::Attest, c, in, out);
      case AgentMethod::kGetKeyAttestation:
        return Invoke<v1::GetKeyAttestationRequest, v1::KeyAttestationIdentity>(
            &Stub::GetKeyAttestation, c, in, out);
      case AgentMethod::kAttestKey:
        return Invoke<v1::AttestKeyRequest, v1::AttestKeyResponse>(&Stub::AttestKey, c, in, out);
    }
    return {grpc::StatusCode::INTERNAL, "unknown agent method"};
  }

  RetryPolicy retry_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::DeviceAgent::Stub> stub_;
};

}  // namespace

Result<std::unique_ptr<AgentLink>> OpenAgentLink(const std::string& address,
                                                 const RetryPolicy& retry) {
  if (address.starts_with("serial:")) {
    IMPRINT_ASSIGN_OR_RETURN(auto target, ParseSerialAddress(address));
    IMPRINT_ASSIGN_OR_RETURN(auto link, SerialLink::Open(target, retry));
    return std::unique_ptr<AgentLink>(std::move(link));
  }
  return std::unique_ptr<AgentLink>(std::make_unique<GrpcAgentLink>(address, retry));
}

}  // namespace imprint::station
