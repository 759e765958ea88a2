#pragma once
// AgentService: imprint.v1.DeviceAgent for one Device, on gRPC's callback API so a harness can
// serve hundreds of devices without a thread pool each.

#include "device_agent/device.h"
#include "imprint/v1/agent.grpc.pb.h"

namespace imprint::agent {

class AgentService final : public imprint::v1::DeviceAgent::CallbackService {
 public:
  explicit AgentService(Device& device) : device_(device) {}

  grpc::ServerUnaryReactor* GetIdentity(grpc::CallbackServerContext* context,
                                        const imprint::v1::GetIdentityRequest* request,
                                        imprint::v1::DeviceIdentity* response) override;
  grpc::ServerUnaryReactor* CreateKeyAndCsr(
      grpc::CallbackServerContext* context, const imprint::v1::CreateKeyAndCsrRequest* request,
      imprint::v1::CreateKeyAndCsrResponse* response) override;
  grpc::ServerUnaryReactor* InstallCredentials(
      grpc::CallbackServerContext* context, const imprint::v1::InstallCredentialsRequest* request,
      imprint::v1::InstallCredentialsResponse* response) override;
  grpc::ServerUnaryReactor* ProveIdentity(grpc::CallbackServerContext* context,
                                          const imprint::v1::ProveIdentityRequest* request,
                                          imprint::v1::ProveIdentityResponse* response) override;
  grpc::ServerUnaryReactor* Attest(grpc::CallbackServerContext* context,
                                   const imprint::v1::AttestRequest* request,
                                   imprint::v1::AttestResponse* response) override;
  grpc::ServerUnaryReactor* GetKeyAttestation(
      grpc::CallbackServerContext* context, const imprint::v1::GetKeyAttestationRequest* request,
      imprint::v1::KeyAttestationIdentity* response) override;
  grpc::ServerUnaryReactor* AttestKey(grpc::CallbackServerContext* context,
                                      const imprint::v1::AttestKeyRequest* request,
                                      imprint::v1::AttestKeyResponse* response) override;
  grpc::ServerUnaryReactor* Commit(grpc::CallbackServerContext* context,
                                   const imprint::v1::CommitRequest* request,
                                   imprint::v1::CommitResponse* response) override;

 private:
  Device& device_;
};

}  // namespace imprint::agent
