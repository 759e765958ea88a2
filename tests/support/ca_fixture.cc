#include "tests/support/ca_fixture.h"

#include <openssl/pem.h>

#include <sstream>
#include <stdexcept>

#include "ca/admin_cli.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/support/test_store.h"

namespace imprint::testing {
namespace {

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().ToString());
  return std::move(*r);
}

void Must(const Status& s, const char* what) {
  if (!s) throw std::runtime_error(std::string(what) + ": " + s.error().ToString());
}

}  // namespace

std::string PrivateKeyPem(EVP_PKEY* key) {
  return Must(x509::PrivateKeyToPem(key), "private key to PEM");
}

std::string DerToPem(const std::string& der) {
  return Must(x509::CertificateDerToPem(AsBytes(der)), "certificate to PEM");
}

DeviceKey DeviceKey::Make(const std::string& type) {
  DeviceKey d;
  auto key = Must(x509::GenerateKey(type), "device key");
  d.key = x509::ShareKey(key.get());
  auto signer = Must(x509::EvpSigner::Create(std::move(key)), "device signer");
  d.csr_der = Must(x509::BuildCsr(*signer, {{"CN", "attacker-chosen"}, {"O", "Evil"}}), "CSR");
  return d;
}

CaFixture::CaFixture(CaFixtureOptions options) : token_("imprint-ca", false) {
  std::ostringstream toml;
  toml << "[hsm]\nmodule = \"" << options.module << "\"\ntoken_uri = \"pkcs11:token=imprint-ca\"\n"
       << "pin_file = \"" << token_.pin_file().string() << "\"\n"
       << "[ca]\nstate_dir = \"" << (token_.dir() / "state").string() << "\"\n"
       << "organization = \"Acme Devices\"\nkey_type = \"" << options.key_type << "\"\n"
       << "[server]\nlisten = \"127.0.0.1:0\"\n"
       << "[audit]\ncheckpoint_every = " << options.checkpoint_every << "\n"
       << "[status]\n"
       << options.status_toml << "\n"
       << TestStoreToml() << "\n"
       << options.extra_toml << "\n";
  WriteFile(token_.dir() / "ca.toml", toml.str(), 0644);
  config_ = Must(ca::CaConfig::Load((token_.dir() / "ca.toml").string()), "config");
  std::ostringstream out;
  Must(ca::Init(config_, false, out), "init");
  root_pem_ = ReadFile(config_.RootPemPath());
  Restart();
}

CaFixture::~CaFixture() { Stop(); }

void CaFixture::Stop() {
  if (server_) server_->Shutdown();
  server_.reset();
}

void CaFixture::Restart() {
  Stop();
  server_ = Must(ca::CaServer::Start(config_, ""), "start server");
}

void CaFixture::RestartOnSamePorts() {
  std::string open = server_->address(), stations = server_->station_address();
  Stop();
  server_ = Must(ca::CaServer::Start(config_, open, stations), "start server");
}

std::string CaFixture::AddStation(const std::string& name) {
  return Must(ca::StationAddCommand(config_, name), "station add");
}

void CaFixture::CreateOrder(const std::string& id, int64_t quota,
                            std::vector<std::string> stations) {
  Must(ca::OrderCreateCommand(config_, {id, "cam-v2", quota, std::move(stations)}), "order create");
}

std::shared_ptr<grpc::Channel> CaFixture::AnonymousChannel() const {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = root_pem_;
  return grpc::CreateChannel(address(), grpc::SslCredentials(options));
}

std::unique_ptr<imprint::v1::CertificateAuthority::Stub> CaFixture::AnonymousStub() const {
  return imprint::v1::CertificateAuthority::NewStub(AnonymousChannel());
}

StationClient::StationClient(const CaFixture& ca, const std::string& cert_chain_pem,
                             const std::string& key_pem)
    : cert_pem_(cert_chain_pem), key_pem_(key_pem) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca.root_pem();
  options.pem_cert_chain = cert_chain_pem;
  options.pem_private_key = key_pem;
  channel_ = grpc::CreateChannel(ca.station_address(), grpc::SslCredentials(options));
  stub_ = imprint::v1::CertificateAuthority::NewStub(channel_);
}

StationClient StationClient::Enroll(CaFixture& ca, const std::string& name) {
  std::string token = ca.AddStation(name);
  DeviceKey key = DeviceKey::Make();
  imprint::v1::EnrollStationRequest request;
  request.set_station_name(name);
  request.set_enrollment_token(token);
  request.set_csr_der(std::string(key.csr_der.begin(), key.csr_der.end()));
  imprint::v1::EnrollStationResponse response;
  grpc::ClientContext context;
  auto status = ca.AnonymousStub()->EnrollStation(&context, request, &response);
  if (!status.ok()) throw std::runtime_error("enroll: " + status.error_message());
  std::string chain = DerToPem(response.certificate_der());
  for (int i = 0; i + 1 < response.chain_der_size(); ++i) chain += DerToPem(response.chain_der(i));
  return StationClient(ca, chain, PrivateKeyPem(key.key.get()));
}

}  // namespace imprint::testing
