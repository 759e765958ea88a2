#include "ca/service.h"

#include <cctype>
#include <chrono>

#include "common/rpc/status.h"
#include "common/rpc/tls.h"

namespace imprint::ca {
namespace {

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string ToString(const Bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace

Result<std::string> CaService::AuthenticatedStation(const grpc::ServerContext& context) {
  IMPRINT_ASSIGN_OR_RETURN(StationPeer peer, AuthenticatedPeer(context));
  return std::move(peer.name);
}

Result<StationPeer> CaService::AuthenticatedPeer(const grpc::ServerContext& context) {
  auto peer = authority_.AuthenticateStationPeer(rpc::PeerCertificatePem(context),
                                                 PeerSource(context.peer()));
  if (peer && metrics_) metrics_->StationSeen(peer->name);
  return peer;
}

grpc::Status CaService::Failed(const Error& error) {
  if (metrics_) {
    std::string reason(CodeName(error.code()));
    for (char& c : reason) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    metrics_->Failure(reason);
  }
  return rpc::ToGrpcStatus(error);
}

void CaService::AddChain(google::protobuf::RepeatedPtrField<std::string>* chain) const {
  for (const Bytes& der : authority_.certificates().chain_der) chain->Add(ToString(der));
}

grpc::Status CaService::EnrollStation(grpc::ServerContext* context,
                                      const imprint::v1::EnrollStationRequest* request,
                                      imprint::v1::EnrollStationResponse* response) {
  auto result = authority_.EnrollStation(request->station_name(), request->enrollment_token(),
                                         ToBytes(request->csr_der()), PeerSource(context->peer()));
  if (!result) return rpc::ToGrpcStatus(result.error());
  response->set_certificate_der(ToString(result->certificate_der));
  AddChain(response->mutable_chain_der());
  response->set_station_port(station_port_);
  return grpc::Status::OK;
}

grpc::Status CaService::GetCaChain(grpc::ServerContext*, const imprint::v1::GetCaChainRequest*,
                                   imprint::v1::GetCaChainResponse* response) {
  AddChain(response->mutable_chain_der());
  response->set_station_port(station_port_);
  return grpc::Status::OK;
}

grpc::Status CaService::GetDeviceRecord(grpc::ServerContext* context,
                                        const imprint::v1::GetDeviceRecordRequest* request,
                                        imprint::v1::DeviceRecord* response) {
  auto station = AuthenticatedStation(*context);
  if (!station) return rpc::ToGrpcStatus(station.error());
  auto record = authority_.GetDeviceRecord(request->device_id());
  if (!record) return rpc::ToGrpcStatus(record.error());
  response->set_order_id(record->order_id);
  response->set_serial_hex(record->serial_hex);
  response->set_certificate_der(ToString(record->certificate_der));
  response->set_status(record->status);
  response->set_challenge(ToString(record->challenge));
  response->set_matter(record->matter);
  return grpc::Status::OK;
}

grpc::Status EnrollmentService::EnrollStation(grpc::ServerContext* context,
                                              const imprint::v1::EnrollStationRequest* request,
                                              imprint::v1::EnrollStationResponse* response) {
  return ca_.EnrollStation(context, request, response);
}

grpc::Status EnrollmentService::GetCaChain(grpc::ServerContext* context,
                                           const imprint::v1::GetCaChainRequest* request,
                                           imprint::v1::GetCaChainResponse* response) {
  return ca_.GetCaChain(context, request, response);
}

grpc::Status CaService::IssueDeviceCertificate(
    grpc::ServerContext* context, const imprint::v1::IssueDeviceCertificateRequest* request,
    imprint::v1::IssueDeviceCertificateResponse* response) {
  auto station = AuthenticatedStation(*context);
  if (!station) return Failed(station.error());
  return Issue(*station, "", *request, response);
}

grpc::Status CaService::Issue(const std::string& station, const std::string& station_serial,
                              const imprint::v1::IssueDeviceCertificateRequest& request,
                              imprint::v1::IssueDeviceCertificateResponse* response) {
  auto began = std::chrono::steady_clock::now();
  IssueRequest r{request.order_id(), request.device_id(), ToBytes(request.csr_der()),
                 request.profile()};
  r.station_serial = station_serial;
  if (request.has_tpm_evidence()) {
    const auto& e = request.tpm_evidence();
    r.tpm_evidence = TpmEvidence{ToBytes(e.ek_certificate_der()), ToBytes(e.ak_public()),
                                 ToBytes(e.key_public()),         ToBytes(e.certify_info()),
                                 ToBytes(e.certify_signature()),  ToBytes(e.activated_secret())};
  }
  auto result = authority_.IssueDeviceCertificate(station, r);
  if (!result) return Failed(result.error());
  if (metrics_ && !result->already_issued) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
    metrics_->CertificateIssued(r.order_id, station, took.count());
  }
  response->set_certificate_der(ToString(result->certificate_der));
  if (result->matter) {
    for (const Bytes& der : result->chain_der) response->add_chain_der(ToString(der));
    response->set_matter(true);
  } else {
    AddChain(response->mutable_chain_der());
  }
  response->set_serial_hex(result->serial_hex);
  response->set_already_issued(result->already_issued);
  response->set_audit_seq(result->audit_seq);
  response->set_challenge(ToString(result->challenge));
  return grpc::Status::OK;
}

grpc::Status CaService::BeginKeyAttestation(grpc::ServerContext* context,
                                            const imprint::v1::BeginKeyAttestationRequest* request,
                                            imprint::v1::BeginKeyAttestationResponse* response) {
  auto station = AuthenticatedStation(*context);
  if (!station) return Failed(station.error());
  auto challenge = authority_.BeginKeyAttestation(
      *station, request->order_id(), request->device_id(), AsBytes(request->ek_certificate_der()),
      AsBytes(request->ak_public()));
  if (!challenge) return Failed(challenge.error());
  response->set_credential_blob(ToString(challenge->credential_blob));
  response->set_encrypted_secret(ToString(challenge->encrypted_secret));
  response->set_nonce(ToString(challenge->nonce));
  return grpc::Status::OK;
}

grpc::Status CaService::IssueDeviceSecrets(grpc::ServerContext* context,
                                           const imprint::v1::IssueDeviceSecretsRequest* request,
                                           imprint::v1::IssueDeviceSecretsResponse* response) {
  auto station = AuthenticatedStation(*context);
  if (!station) return Failed(station.error());
  auto result = authority_.IssueDeviceSecrets(*station, request->order_id(), request->device_id());
  if (!result) return Failed(result.error());
  for (const auto& secret : result->secrets) {
    auto* out = response->add_secrets();
    out->set_name(secret.name);
    // Protobuf's copy is the one this process cannot wipe (docs/operations.md).
    out->mutable_value()->assign(secret.value.Reveal());
  }
  response->set_audit_seq(result->audit_seq);
  return grpc::Status::OK;
}

grpc::Status CaService::ReportProvisioned(grpc::ServerContext* context,
                                          const imprint::v1::ReportProvisionedRequest* request,
                                          imprint::v1::ReportProvisionedResponse* response) {
  auto station = AuthenticatedStation(*context);
  if (!station) return Failed(station.error());
  ReportRequest r{request->order_id(), request->device_id(), request->serial_hex(),
                  request->verified(), request->detail(),    ToBytes(request->proof_signature())};
  r.attestation_elements = ToBytes(request->attestation_elements());
  r.attestation_challenge = ToBytes(request->attestation_challenge());
  auto seq = authority_.ReportProvisioned(*station, r);
  if (!seq) return Failed(seq.error());
  if (metrics_ && !r.verified) metrics_->Failure("device_failed");
  response->set_audit_seq(*seq);
  return grpc::Status::OK;
}

grpc::Status CaService::BindLabel(grpc::ServerContext* context,
                                  const imprint::v1::BindLabelRequest* request,
                                  imprint::v1::BindLabelResponse* response) {
  auto station = AuthenticatedStation(*context);
  if (!station) return Failed(station.error());
  auto bound = authority_.BindLabel(*station, request->order_id(), request->device_id(),
                                    request->label_code(), request->prints());
  if (!bound) return Failed(bound.error());
  response->set_audit_seq(bound->audit_seq);
  response->set_already(bound->already);
  return grpc::Status::OK;
}

}  // namespace imprint::ca

namespace imprint::ca {

grpc::Status CaService::FetchAllowance(grpc::ServerContext* context,
                                       const imprint::v1::FetchAllowanceRequest* request,
                                       imprint::v1::FetchAllowanceResponse* response) {
  auto station = AuthenticatedStation(*context);
  if (!station) return Failed(station.error());
  if (allowances_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this CA grants no allowances");
  }
  auto fetched = allowances_->Fetch(*station, request->order_id(), ToBytes(request->csr_der()));
  if (!fetched) return Failed(fetched.error());
  response->set_allowance_id(fetched->allowance.id);
  response->set_subordinate_certificate_der(ToString(fetched->subordinate_der));
  response->add_chain_der(ToString(fetched->root_der));
  response->set_signed_allowance(fetched->signed_allowance);
  response->set_count(fetched->allowance.count);
  response->set_not_after_ms(fetched->allowance.not_after_ms);
  return grpc::Status::OK;
}

grpc::Status CaService::ReconcileAllowance(grpc::ServerContext* context,
                                           const imprint::v1::ReconcileAllowanceRequest* request,
                                           imprint::v1::ReconcileAllowanceResponse* response) {
  auto station = AuthenticatedStation(*context);
  if (!station) return Failed(station.error());
  if (allowances_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this CA grants no allowances");
  }
  ReconcilePart part;
  part.allowance_id = request->allowance_id();
  for (const auto& e : request->entries()) {
    part.entries.push_back({e.seq(), e.device_id(), e.serial_hex(), ToBytes(e.certificate_der()),
                            ToBytes(e.challenge()), e.issued_ms(), ToBytes(e.hash())});
    part.proofs.push_back(ToBytes(e.proof_signature()));
    part.sealed_passwords.push_back(ToBytes(e.sealed_password()));
    part.sealed_signatures.push_back(ToBytes(e.sealed_password_signature()));
  }
  for (const auto& c : request->checkpoints()) {
    part.checkpoints.push_back({c.seq(), ToBytes(c.hash()), ToBytes(c.signature())});
  }
  part.ocsp_delegate_der = ToBytes(request->ocsp_delegate_der());
  auto result = allowances_->Reconcile(*station, part);
  if (!result) return Failed(result.error());
  response->set_reconciled_seq(result->reconciled_seq);
  response->set_recorded(result->recorded);
  for (const std::string& v : result->violations) response->add_violations(v);
  response->set_revoked(result->revoked);
  response->set_ocsp_responder_der(
      std::string(result->ocsp_responder_der.begin(), result->ocsp_responder_der.end()));
  return grpc::Status::OK;
}

}  // namespace imprint::ca
