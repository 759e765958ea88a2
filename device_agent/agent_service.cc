#include "device_agent/agent_service.h"

#include "common/rpc/status.h"

namespace imprint::agent {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context, const Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(rpc::ToGrpcStatus(status));
  return reactor;
}

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

Result<std::string> KeyTypeName(imprint::v1::KeyType type) {
  switch (type) {
    case imprint::v1::KEY_TYPE_UNSPECIFIED:
      return std::string();
    case imprint::v1::EC_P256:
      return std::string("P-256");
    case imprint::v1::EC_P384:
      return std::string("P-384");
    case imprint::v1::RSA_3072:
      return std::string("RSA-3072");
    default:
      return Fail(Code::kInvalidArgument, "unknown key type");
  }
}

}  // namespace

grpc::ServerUnaryReactor* AgentService::GetIdentity(grpc::CallbackServerContext* context,
                                                    const imprint::v1::GetIdentityRequest*,
                                                    imprint::v1::DeviceIdentity* response) {
  Identity id = device_.GetIdentity();
  response->set_hardware_id(id.info.hardware_id);
  response->set_model(id.info.model);
  response->set_firmware_version(id.info.firmware_version);
  response->set_state(static_cast<imprint::v1::ProvisioningState>(id.state));
  response->set_certificate_der(std::string(id.certificate_der.begin(), id.certificate_der.end()));
  return Finish(context, {});
}

grpc::ServerUnaryReactor* AgentService::CreateKeyAndCsr(
    grpc::CallbackServerContext* context, const imprint::v1::CreateKeyAndCsrRequest* request,
    imprint::v1::CreateKeyAndCsrResponse* response) {
  auto type = KeyTypeName(request->key_type());
  if (!type) return Finish(context, std::unexpected(type.error()));
  auto csr = device_.CreateKeyAndCsr(*type, request->fresh_key());
  if (!csr) return Finish(context, std::unexpected(csr.error()));
  response->set_csr_der(std::string(csr->begin(), csr->end()));
  return Finish(context, {});
}

grpc::ServerUnaryReactor* AgentService::InstallCredentials(
    grpc::CallbackServerContext* context, const imprint::v1::InstallCredentialsRequest* request,
    imprint::v1::InstallCredentialsResponse*) {
  Credentials credentials;
  credentials.certificate_der = ToBytes(request->certificate_der());
  for (const auto& der : request->chain_der()) credentials.chain_der.push_back(ToBytes(der));
  for (const auto& secret : request->secrets()) {
    credentials.secrets.emplace_back(secret.name(), Secret::CopyOf(secret.value()));
  }
  return Finish(context, device_.InstallCredentials(std::move(credentials)));
}

grpc::ServerUnaryReactor* AgentService::ProveIdentity(
    grpc::CallbackServerContext* context, const imprint::v1::ProveIdentityRequest* request,
    imprint::v1::ProveIdentityResponse* response) {
  auto signature = device_.ProveIdentity(ToBytes(request->nonce()));
  if (!signature) return Finish(context, std::unexpected(signature.error()));
  response->set_signature_der(std::string(signature->begin(), signature->end()));
  return Finish(context, {});
}

grpc::ServerUnaryReactor* AgentService::Attest(grpc::CallbackServerContext* context,
                                               const imprint::v1::AttestRequest* request,
                                               imprint::v1::AttestResponse* response) {
  auto attested = device_.Attest(ToBytes(request->attestation_nonce()),
                                 ToBytes(request->attestation_challenge()));
  if (!attested) return Finish(context, std::unexpected(attested.error()));
  response->set_attestation_elements(
      std::string(attested->elements.begin(), attested->elements.end()));
  response->set_signature(std::string(attested->signature.begin(), attested->signature.end()));
  return Finish(context, {});
}

grpc::ServerUnaryReactor* AgentService::Commit(grpc::CallbackServerContext* context,
                                               const imprint::v1::CommitRequest*,
                                               imprint::v1::CommitResponse*) {
  return Finish(context, device_.Commit());
}

}  // namespace imprint::agent
