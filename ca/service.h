#pragma once
// CaService: imprint.v1.CertificateAuthority over gRPC, served on the station listener. One
// override per RPC; each station RPC authenticates the station from its TLS client certificate
// (never from a request field), calls the Authority and turns its Error into a grpc::Status.
// EnrollmentService is what the open listener serves: enrollment and the CA chain only; every
// station RPC there is gRPC's UNIMPLEMENTED and never reaches the Authority.

#include "ca/allowance/desk.h"
#include "ca/authority.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::ca {

class CaService final : public imprint::v1::CertificateAuthority::Service {
 public:
  // `metrics` (optional) counts issuance, failures and station calls.
  explicit CaService(Authority& authority, CaMetrics* metrics = nullptr)
      : authority_(authority), metrics_(metrics) {}

  // The station listener's bound port, told to stations in enrollment and chain answers.
  void set_station_port(uint32_t port) { station_port_ = port; }
  // Where FetchAllowance goes; without it the RPC is UNIMPLEMENTED.
  void set_allowances(AllowanceDesk* desk) { allowances_ = desk; }

  grpc::Status EnrollStation(grpc::ServerContext* context,
                             const imprint::v1::EnrollStationRequest* request,
                             imprint::v1::EnrollStationResponse* response) override;
  grpc::Status GetCaChain(grpc::ServerContext* context,
                          const imprint::v1::GetCaChainRequest* request,
                          imprint::v1::GetCaChainResponse* response) override;
  grpc::Status IssueDeviceCertificate(
      grpc::ServerContext* context, const imprint::v1::IssueDeviceCertificateRequest* request,
      imprint::v1::IssueDeviceCertificateResponse* response) override;
  grpc::Status IssueDeviceSecrets(grpc::ServerContext* context,
                                  const imprint::v1::IssueDeviceSecretsRequest* request,
                                  imprint::v1::IssueDeviceSecretsResponse* response) override;
  grpc::Status ReportProvisioned(grpc::ServerContext* context,
                                 const imprint::v1::ReportProvisionedRequest* request,
                                 imprint::v1::ReportProvisionedResponse* response) override;
  grpc::Status BeginKeyAttestation(grpc::ServerContext* context,
                                   const imprint::v1::BeginKeyAttestationRequest* request,
                                   imprint::v1::BeginKeyAttestationResponse* response) override;
  grpc::Status BindLabel(grpc::ServerContext* context, const imprint::v1::BindLabelRequest* request,
                         imprint::v1::BindLabelResponse* response) override;
  grpc::Status GetDeviceRecord(grpc::ServerContext* context,
                               const imprint::v1::GetDeviceRecordRequest* request,
                               imprint::v1::DeviceRecord* response) override;
  grpc::Status FetchAllowance(grpc::ServerContext* context,
                              const imprint::v1::FetchAllowanceRequest* request,
                              imprint::v1::FetchAllowanceResponse* response) override;
  grpc::Status ReconcileAllowance(grpc::ServerContext* context,
                                  const imprint::v1::ReconcileAllowanceRequest* request,
                                  imprint::v1::ReconcileAllowanceResponse* response) override;

  // The calling station from its TLS client certificate (refusals are counted against the
  // peer's address).
  Result<StationPeer> AuthenticatedPeer(const grpc::ServerContext& context);
  // IssueDeviceCertificate for a station already authenticated: the unary RPC's and each of
  // the issuance stream's requests (ca/issue_stream_service.h). `station_serial`, when set, is
  // checked with the issuance facts (IssueRequest::station_serial).
  grpc::Status Issue(const std::string& station, const std::string& station_serial,
                     const imprint::v1::IssueDeviceCertificateRequest& request,
                     imprint::v1::IssueDeviceCertificateResponse* response);
  // Counts a refused or failed call by its code (when metrics are on); returns its status.
  grpc::Status Failed(const Error& error);
  Authority& authority() { return authority_; }

 private:
  void AddChain(google::protobuf::RepeatedPtrField<std::string>* chain) const;
  Result<std::string> AuthenticatedStation(const grpc::ServerContext& context);

  Authority& authority_;
  CaMetrics* metrics_;
  uint32_t station_port_ = 0;
  AllowanceDesk* allowances_ = nullptr;
};

class EnrollmentService final : public imprint::v1::CertificateAuthority::Service {
 public:
  explicit EnrollmentService(CaService& ca) : ca_(ca) {}

  grpc::Status EnrollStation(grpc::ServerContext* context,
                             const imprint::v1::EnrollStationRequest* request,
                             imprint::v1::EnrollStationResponse* response) override;
  grpc::Status GetCaChain(grpc::ServerContext* context,
                          const imprint::v1::GetCaChainRequest* request,
                          imprint::v1::GetCaChainResponse* response) override;

 private:
  CaService& ca_;
};

}  // namespace imprint::ca
