#include "factory_station/key_attestation.h"

#include "common/rpc/status.h"

namespace imprint::station {

namespace v1 = imprint::v1;

Result<v1::TpmKeyEvidence> AttestDeviceKey(AgentLink& agent, v1::CertificateAuthority::Stub& ca,
                                           const Caller& ca_call, const std::string& order,
                                           const std::string& device_id) {
  auto failed = [](const char* step, const grpc::Status& status) {
    return std::unexpected(rpc::FromGrpcStatus(status).WithContext(step));
  };
  v1::KeyAttestationIdentity id;
  auto status = agent.GetKeyAttestation(&id);
  if (!status.ok()) return failed("key attestation (device)", status);
  v1::BeginKeyAttestationRequest begin;
  begin.set_order_id(order);
  begin.set_device_id(device_id);
  begin.set_ek_certificate_der(id.ek_certificate_der());
  begin.set_ak_public(id.ak_public());
  v1::BeginKeyAttestationResponse challenge;
  status = ca_call(
      [&](grpc::ClientContext& c) { return ca.BeginKeyAttestation(&c, begin, &challenge); });
  if (!status.ok()) return failed("key attestation", status);
  v1::AttestKeyRequest ask;
  ask.set_credential_blob(challenge.credential_blob());
  ask.set_encrypted_secret(challenge.encrypted_secret());
  ask.set_nonce(challenge.nonce());
  v1::AttestKeyResponse answer;
  status = agent.AttestKey(ask, &answer);
  if (!status.ok()) return failed("key attestation (device)", status);
  v1::TpmKeyEvidence evidence;
  evidence.set_ek_certificate_der(id.ek_certificate_der());
  evidence.set_ak_public(id.ak_public());
  evidence.set_key_public(id.key_public());
  evidence.set_certify_info(answer.certify_info());
  evidence.set_certify_signature(answer.certify_signature());
  evidence.set_activated_secret(answer.activated_secret());
  return evidence;
}

}  // namespace imprint::station
