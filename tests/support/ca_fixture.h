#pragma once
// CaFixture: a real CA for integration tests: a fresh SoftHSM token, a config under a temp
// dir, `init` run, and the gRPC server started in process on 127.0.0.1:0 with real TLS.
// StationClient enrolls like a real station and talks mTLS.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ca/config.h"
#include "ca/server.h"
#include "common/bytes.h"
#include "common/x509/openssl_types.h"
#include "imprint/v1/ca.grpc.pb.h"
#include "tests/support/softhsm_token.h"

namespace imprint::testing {

struct CaFixtureOptions {
  std::string key_type = "P-256";
  uint64_t checkpoint_every = 1000;
  std::string module = kSoftHsmModule;  // e.g. the fault-injecting module
  std::string status_toml;              // lines of the [status] table
  std::string extra_toml;               // further tables (e.g. [console]) at the end
};

class CaFixture {
 public:
  explicit CaFixture(CaFixtureOptions options = {});
  ~CaFixture();

  const ca::CaConfig& config() const { return config_; }
  const std::string& address() const { return server_->address(); }
  const std::string& station_address() const { return server_->station_address(); }
  ca::CaServer& server() { return *server_; }
  const std::string& root_pem() const { return root_pem_; }
  const TempDir& dir() const { return token_.dir(); }

  void Stop();
  void Restart();
  // Stops and serves again on the same two ports, so open channels reconnect to it.
  void RestartOnSamePorts();

  // Admin commands, in process.
  std::string AddStation(const std::string& name);
  void CreateOrder(const std::string& id, int64_t quota, std::vector<std::string> stations);

  // A channel with server-authenticated TLS only (as for enrollment).
  std::shared_ptr<grpc::Channel> AnonymousChannel() const;
  std::unique_ptr<imprint::v1::CertificateAuthority::Stub> AnonymousStub() const;

 private:
  SoftHsmToken token_;
  ca::CaConfig config_;
  std::unique_ptr<ca::CaServer> server_;
  std::string root_pem_;
};

// A station: its own key, enrolled through EnrollStation, then an mTLS stub.
class StationClient {
 public:
  // Adds the station at the CA, enrolls it with the token, and connects with its certificate.
  static StationClient Enroll(CaFixture& ca, const std::string& name);
  // Connects with an arbitrary certificate chain and key (e.g. from another CA).
  StationClient(const CaFixture& ca, const std::string& cert_chain_pem, const std::string& key_pem);

  imprint::v1::CertificateAuthority::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // Connects now (driving gRPC's reconnects), for a test whose calls must not meet a channel
  // that failed its first connect: such a channel fails every call at once until polled.
  bool WaitUntilConnected(std::chrono::seconds limit) {
    return channel_->WaitForConnected(std::chrono::system_clock::now() + limit);
  }
  const std::string& cert_pem() const { return cert_pem_; }
  const std::string& key_pem() const { return key_pem_; }

 private:
  std::string cert_pem_;
  std::string key_pem_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<imprint::v1::CertificateAuthority::Stub> stub_;
};

// A device key and a CSR for it (subject deliberately unlike what the CA will set).
struct DeviceKey {
  x509::PkeyPtr key;
  Bytes csr_der;
  static DeviceKey Make(const std::string& type = "P-256");
};

std::string PrivateKeyPem(EVP_PKEY* key);
std::string DerToPem(const std::string& der);

}  // namespace imprint::testing
