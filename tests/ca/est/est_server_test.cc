// The EST listener in process (ca/est/server.h): stations enroll devices on concurrent HTTPS
// connections with their certificates, and each device's proof over the challenge the answer
// carries is reported over gRPC and taken; a station of another CA and no certificate at all
// are refused and counted.
#include <httplib.h>
#include <openssl/pkcs7.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <thread>

#include "common/base64.h"
#include "common/proof.h"
#include "common/x509/csr.h"
#include "common/x509/evp_signer.h"
#include "common/x509/key_policy.h"
#include "tests/common/x509_test_util.h"
#include "tests/support/ca_fixture.h"
#include "tests/support/temp_dir.h"

namespace imprint::testing {
namespace {

namespace v1 = imprint::v1;

CaFixtureOptions EstOptions() {
  CaFixtureOptions options;
  options.extra_toml = "[est]\nlisten = \"127.0.0.1:0\"\n";
  return options;
}

// A client of the EST listener with `cert_pem` and `key_pem` as its TLS identity (none when
// empty), trusting the CA's chain.
std::unique_ptr<httplib::SSLClient> EstClient(CaFixture& ca, const TempDir& dir,
                                              const std::string& cert_pem,
                                              const std::string& key_pem) {
  const std::string& address = ca.server().est_address();
  size_t colon = address.rfind(':');
  std::unique_ptr<httplib::SSLClient> client;
  if (cert_pem.empty()) {
    client = std::make_unique<httplib::SSLClient>(address.substr(0, colon),
                                                  std::stoi(address.substr(colon + 1)));
  } else {
    std::string cert = (dir.path() / "client-cert.pem").string();
    std::string key = (dir.path() / "client-key.pem").string();
    std::ofstream(cert) << cert_pem;
    std::ofstream(key) << key_pem;
    client = std::make_unique<httplib::SSLClient>(address.substr(0, colon),
                                                  std::stoi(address.substr(colon + 1)), cert, key);
  }
  client->set_ca_cert_path(ca.config().ChainPemPath().c_str());
  client->enable_server_certificate_verification(true);
  client->set_tcp_nodelay(true);
  return client;
}

struct Enrolled {
  x509::PkeyPtr key;
  std::string device;
  int status = 0;
  httplib::Headers headers;
};

TEST_CASE("EST enrollments on concurrent connections, then each proof reported over gRPC") {
  // A client that writes to a connection the server has closed gets EPIPE, not a signal.
  std::signal(SIGPIPE, SIG_IGN);
  TempDir dir;
  CaFixture ca(EstOptions());
  REQUIRE_FALSE(ca.server().est_address().empty());
  StationClient station = StationClient::Enroll(ca, "line-a");
  ca.CreateOrder("PO-1", 8, {"line-a"});
  constexpr int kThreads = 4, kEach = 2;
  std::vector<Enrolled> enrolled(kThreads * kEach);
  std::vector<std::unique_ptr<httplib::SSLClient>> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.push_back(EstClient(ca, dir, station.cert_pem(), station.key_pem()));
  }
  std::vector<Bytes> csrs;
  for (size_t i = 0; i < enrolled.size(); ++i) {
    auto key = x509::GenerateKey("P-256").value();
    enrolled[i].key = x509::ShareKey(key.get());
    enrolled[i].device = "est-dev-" + std::to_string(i);
    auto signer = x509::EvpSigner::Create(std::move(key)).value();
    csrs.push_back(x509::BuildCsr(*signer, {{"CN", enrolled[i].device}}).value());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int j = 0; j < kEach; ++j) {
        size_t i = static_cast<size_t>(t * kEach + j);
        auto answer = clients[static_cast<size_t>(t)]->Post(
            "/.well-known/est/simpleenroll", Base64Encode(csrs[i]), "application/pkcs10");
        if (answer) {
          enrolled[i].status = answer->status;
          enrolled[i].headers = answer->headers;
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  for (auto& e : enrolled) {
    INFO(e.device);
    REQUIRE(e.status == 200);
    auto header = [&](const char* name) {
      auto it = e.headers.find(name);
      return it == e.headers.end() ? std::string() : it->second;
    };
    auto challenge = Base64Decode(header("X-Imprint-Challenge"));
    REQUIRE(challenge.has_value());
    CHECK(challenge->size() == 32);
    CHECK(header("X-Imprint-Order") == "PO-1");
    // The documented extension: the device signs ProofMessage(challenge), the station reports.
    auto signer = x509::EvpSigner::Create(x509::ShareKey(e.key.get())).value();
    Bytes proof = signer->Sign(ProofMessage(*challenge)).value();
    v1::ReportProvisionedRequest report;
    report.set_order_id("PO-1");
    report.set_device_id(e.device);
    report.set_serial_hex(header("X-Imprint-Serial"));
    report.set_verified(true);
    report.set_proof_signature(std::string(proof.begin(), proof.end()));
    v1::ReportProvisionedResponse reported;
    grpc::ClientContext context;
    auto status = station.stub().ReportProvisioned(&context, report, &reported);
    INFO(status.error_message());
    CHECK(status.ok());
    v1::GetDeviceRecordRequest ask;
    ask.set_device_id(e.device);
    v1::DeviceRecord record;
    grpc::ClientContext read;
    REQUIRE(station.stub().GetDeviceRecord(&read, ask, &record).ok());
    CHECK(record.status() == "verified");
  }

  // No certificate, or one from another CA: 401, nothing issued.
  auto bare = EstClient(ca, dir, "", "");
  auto refused =
      bare->Post("/.well-known/est/simpleenroll", Base64Encode(csrs[0]), "application/pkcs10");
  REQUIRE(refused);
  CHECK(refused->status == 401);
  auto rogue_root_key = TestKey("P-256");
  auto rogue_signer = x509::EvpSigner::Create(x509::ShareKey(rogue_root_key.get())).value();
  auto rogue_root =
      Issue(RootProfile(), "Rogue Root", rogue_root_key.get(), nullptr, *rogue_signer);
  auto rogue_key = TestKey("P-256");
  auto rogue = Issue(DeviceProfile(), "line-a", rogue_key.get(), rogue_root.get(), *rogue_signer);
  auto other = EstClient(ca, dir, ToPem(rogue.get()), PrivateKeyPem(rogue_key.get()));
  auto foreign =
      other->Post("/.well-known/est/simpleenroll", Base64Encode(csrs[1]), "application/pkcs10");
  INFO("foreign: " << (foreign ? std::to_string(foreign->status)
                               : httplib::to_string(foreign.error())));
  REQUIRE(foreign);
  CHECK(foreign->status == 401);
  CHECK(ca.server().authority().auth_failures().pending() >= 2);  // counted, audited in aggregate
}

}  // namespace
}  // namespace imprint::testing
