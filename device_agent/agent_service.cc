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
std::string ToString(const Bytes& b) { return std::string(b.begin(), b.end()); }

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
  response->set_key_in_tpm(id.key_in_tpm);
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

grpc::ServerUnaryReactor* AgentService::GetKeyAttestation(
    grpc::CallbackServerContext* context, const imprint::v1::GetKeyAttestationRequest*,
    imprint::v1::KeyAttestationIdentity* response) {
  auto id = device_.GetKeyAttestation();
  if (!id) return Finish(context, std::unexpected(id.error()));
  response->set_ek_certificate_der(ToString(id->ek_certificate_der));
  response->set_ak_public(ToString(id->ak_public));
  response->set_key_public(ToString(id->key_public));
  return Finish(context, {});
}

grpc::ServerUnaryReactor* AgentService::AttestKey(grpc::CallbackServerContext* context,
                                                  const imprint::v1::AttestKeyRequest* request,
                                                  imprint::v1::AttestKeyResponse* response) {
  auto attested =
      device_.AttestKey(ToBytes(request->credential_blob()), ToBytes(request->encrypted_secret()),
                        ToBytes(request->nonce()));
  if (!attested) return Finish(context, std::unexpected(attested.error()));
  response->set_activated_secret(ToString(attested->activated_secret));
  response->set_certify_info(ToString(attested->certification.certify_info));
  response->set_certify_signature(ToString(attested->certification.signature));
  return Finish(context, {});
}

grpc::ServerUnaryReactor* AgentService::Commit(grpc::CallbackServerContext* context,
                                               const imprint::v1::CommitRequest*,
                                               imprint::v1::CommitResponse*) {
  return Finish(context, device_.Commit());
}

}  // namespace imprint::agent
