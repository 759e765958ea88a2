#include "factory_station/station_identity.h"

#include <openssl/pem.h>

#include <filesystem>

#include "common/file_util.h"
#include "common/rpc/status.h"
#include "common/secret.h"
#include "common/signals.h"
#include "common/x509/chain.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::station {
namespace {

std::string KeyPath(const std::string& dir) { return dir + "/station-key.pem"; }
std::string CertPath(const std::string& dir) { return dir + "/station-cert.pem"; }
std::string RootPath(const std::string& dir) { return dir + "/ca-root.pem"; }

}  // namespace

Status Enroll(const EnrollOptions& o) {
  if (std::filesystem::exists(CertPath(o.state_dir))) {
    return Fail(Code::kFailedPrecondition, "station already enrolled in " + o.state_dir);
  }
  IMPRINT_ASSIGN_OR_RETURN(Secret token, ReadPinFile(o.token_file));
  IMPRINT_ASSIGN_OR_RETURN(std::string root_pem, ReadWholeFile(o.ca_root_path));
  if (auto root = x509::ParseCertificatePem(root_pem); !root) {
    return std::unexpected(root.error().WithContext("--ca-root"));
  }
  IMPRINT_RETURN_IF_ERROR(MakePrivateDirectory(o.state_dir, 0700));
  // The token is checked (and kept) before the enrollment token is spent.
  if (!o.token.module.empty()) IMPRINT_RETURN_IF_ERROR(SaveTokenConfig(o.state_dir, o.token));

  IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr key, x509::GenerateKey("P-256"));
  IMPRINT_ASSIGN_OR_RETURN(std::string key_pem, x509::PrivateKeyToPem(key.get()));
  IMPRINT_ASSIGN_OR_RETURN(auto signer, x509::EvpSigner::Create(x509::ShareKey(key.get())));
  IMPRINT_ASSIGN_OR_RETURN(Bytes csr, x509::BuildCsr(*signer, {{"CN", o.name}}));

  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = root_pem;
  auto stub = imprint::v1::CertificateAuthority::NewStub(
      grpc::CreateChannel(o.ca_address, grpc::SslCredentials(tls)));
  imprint::v1::EnrollStationRequest request;
  request.set_station_name(o.name);
  request.mutable_enrollment_token()->assign(token.Reveal());
  request.set_csr_der(std::string(csr.begin(), csr.end()));
  imprint::v1::EnrollStationResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status status = stub->EnrollStation(&context, request, &response);
  OPENSSL_cleanse(request.mutable_enrollment_token()->data(), request.enrollment_token().size());
  if (!status.ok()) return std::unexpected(rpc::FromGrpcStatus(status).WithContext("enroll"));

  IMPRINT_ASSIGN_OR_RETURN(std::string chain_pem,
                           x509::CertificateDerToPem(AsBytes(response.certificate_der())));
  for (const auto& der : response.chain_der()) {
    IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::CertificateDerToPem(AsBytes(der)));
    chain_pem += pem;
  }
  auto written = WriteFileAtomic(KeyPath(o.state_dir), key_pem, 0600);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  IMPRINT_RETURN_IF_ERROR(written);
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(RootPath(o.state_dir), root_pem, 0644));
  return WriteFileAtomic(CertPath(o.state_dir), chain_pem, 0644);
}

Result<StationIdentity> StationIdentity::Load(const std::string& dir) {
  StationIdentity id;
  auto key = ReadWholeFile(KeyPath(dir));
  if (!key) {
    return Fail(Code::kFailedPrecondition, "station not enrolled in " + dir + " (run enroll)");
  }
  id.key_pem_ = Secret(std::move(*key));
  IMPRINT_ASSIGN_OR_RETURN(id.cert_chain_pem_, ReadWholeFile(CertPath(dir)));
  IMPRINT_ASSIGN_OR_RETURN(id.root_pem_, ReadWholeFile(RootPath(dir)));
  IMPRINT_ASSIGN_OR_RETURN(id.root_, x509::ParseCertificatePem(id.root_pem_));
  return id;
}

Status StationIdentity::VerifyFromCa(X509* cert) const {
  IMPRINT_ASSIGN_OR_RETURN(auto held, x509::ParseCertificatesPem(cert_chain_pem_));
  std::vector<X509*> intermediates;
  for (size_t i = 1; i < held.size(); ++i) intermediates.push_back(held[i].get());
  return x509::VerifyChain(cert, intermediates, root_.get());
}

Result<std::string> StationIdentity::FindStationListener(const std::string& ca_address) const {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = root_pem_;
  // The open listener takes few connections per source address (ca/server.cc), and holds a
  // peer that never finishes its TLS handshake for up to 10 s: a station that shares its
  // address with such peers (a flood, or a NAT) gets in once they are dropped. So it asks for
  // longer than that, and tries to connect again every second, not on gRPC's growing backoff,
  // which could leave the deadline between two attempts (seen: e2e hostile-net under ASan).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto stub = imprint::v1::CertificateAuthority::NewStub(
      grpc::CreateCustomChannel(ca_address, grpc::SslCredentials(tls), args));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
  context.set_wait_for_ready(true);
  imprint::v1::GetCaChainResponse response;
  grpc::Status status = stub->GetCaChain(&context, {}, &response);
  if (!status.ok()) {
    return std::unexpected(rpc::FromGrpcStatus(status).WithContext(
        "cannot reach the CA at " + ca_address + " (not listening, or the TLS handshake failed)"));
  }
  // A CA from before the station listener serves stations on the one address.
  if (response.station_port() == 0) return ca_address;
  if (response.station_port() > 65535) {
    return Fail(Code::kFailedPrecondition, "the CA at " + ca_address + " named an invalid port");
  }
  return ListenHost(ca_address) + ":" + std::to_string(response.station_port());
}

std::shared_ptr<grpc::Channel> StationIdentity::Connect(const std::string& station_address,
                                                        const RetryPolicy& retry) const {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = root_pem_;
  tls.pem_private_key.assign(key_pem_.Reveal());
  tls.pem_cert_chain = cert_chain_pem_;
  grpc::ChannelArguments args = RetryChannelArguments(retry);
  args.SetMaxReceiveMessageSize(1 << 20);
  // Several nodes ("ipv4:A:P,B:Q", StationTarget): the nodes share one TLS identity, checked
  // against the first node's address (which it names, as every node does its own).
  constexpr std::string_view kMany = "ipv4:";
  if (station_address.starts_with(kMany)) {
    std::string first =
        station_address.substr(kMany.size(), station_address.find(',') - kMany.size());
    args.SetSslTargetNameOverride(ListenHost(first));
  }
  auto credentials = grpc::SslCredentials(tls);
  // gRPC keeps its own copy of the key for the channel's life (docs/operations.md).
  OPENSSL_cleanse(tls.pem_private_key.data(), tls.pem_private_key.size());
  return grpc::CreateCustomChannel(station_address, credentials, args);
}

}  // namespace imprint::station
