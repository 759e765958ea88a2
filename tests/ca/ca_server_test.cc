// The CA service end to end: real gRPC over TLS on 127.0.0.1:0, a fresh SoftHSM token, and
// the certificates checked by openssl verify and certtool.

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "ca/admin_cli.h"
#include "ca/audit/commands.h"
#include "ca/store/store.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/ca/ca_test_util.h"
#include "tests/support/ca_fixture.h"

namespace imprint::testing {
namespace {

using grpc::StatusCode;

std::string ChainPem(const CaFixture& ca) {
  imprint::v1::GetCaChainResponse chain;
  grpc::ClientContext context;
  REQUIRE(ca.AnonymousStub()->GetCaChain(&context, {}, &chain).ok());
  REQUIRE(chain.chain_der_size() == 2);
  return DerToPem(chain.chain_der(0)) + DerToPem(chain.chain_der(1));
}

void ExpectToolsVerify(const CaFixture& ca, const std::string& cert_der) {
  imprint::v1::GetCaChainResponse chain;
  grpc::ClientContext context;
  REQUIRE(ca.AnonymousStub()->GetCaChain(&context, {}, &chain).ok());
  WriteFile(ca.dir() / "root-from-rpc.pem", DerToPem(chain.chain_der(1)));
  WriteFile(ca.dir() / "issuing-from-rpc.pem", DerToPem(chain.chain_der(0)));
  WriteFile(ca.dir() / "leaf.pem", DerToPem(cert_der));
  WriteFile(ca.dir() / "leaf-chain.pem", DerToPem(cert_der) + DerToPem(chain.chain_der(0)));
  std::string out;
  int rc = RunCommand("openssl verify -x509_strict -purpose sslclient -CAfile " +
                          (ca.dir() / "root-from-rpc.pem").string() + " -untrusted " +
                          (ca.dir() / "issuing-from-rpc.pem").string() + " " +
                          (ca.dir() / "leaf.pem").string(),
                      &out);
  INFO(out);
  CHECK(rc == 0);
  rc = RunCommand("certtool --verify --load-ca-certificate " +
                      (ca.dir() / "root-from-rpc.pem").string() + " --infile " +
                      (ca.dir() / "leaf-chain.pem").string(),
                  &out);
  INFO(out);
  CHECK(out.find("Chain verification output: Verified") != std::string::npos);
}

TEST_CASE("an enrollment token works once and only for its station", "[ca]") {
  CaFixture ca;
  std::string token = ca.AddStation("line-1");
  DeviceKey key = DeviceKey::Make();
  auto enroll = [&](const std::string& name, const std::string& t) {
    imprint::v1::EnrollStationRequest request;
    request.set_station_name(name);
    request.set_enrollment_token(t);
    request.set_csr_der(std::string(key.csr_der.begin(), key.csr_der.end()));
    imprint::v1::EnrollStationResponse response;
    grpc::ClientContext context;
    return ca.AnonymousStub()->EnrollStation(&context, request, &response);
  };
  CHECK(enroll("line-1", std::string(64, 'a')).error_code() == StatusCode::PERMISSION_DENIED);
  CHECK(enroll("line-2", token).error_code() == StatusCode::PERMISSION_DENIED);
  CHECK(enroll("line-1", token).ok());
  auto replay = enroll("line-1", token);
  CHECK(replay.error_code() == StatusCode::PERMISSION_DENIED);
  CHECK(replay.error_message() == "enrollment token invalid, expired or already used");
}

TEST_CASE("a device certificate is issued from the profile and verifies with other tools", "[ca]") {
  CaFixture ca;
  auto station = StationClient::Enroll(ca, "line-1");
  ca.CreateOrder("PO-1", 10, {"line-1"});
  DeviceKey device = DeviceKey::Make();
  auto call = CallIssue(station.stub(), "PO-1", "dev-0001", device.csr_der);
  REQUIRE(call.status.ok());
  CHECK_FALSE(call.response.already_issued());
  CHECK(call.response.serial_hex().size() == 32);
  CHECK(call.response.audit_seq() > 0);
  ExpectToolsVerify(ca, call.response.certificate_der());

  auto cert = x509::ParseCertificateDer(AsBytes(call.response.certificate_der()));
  REQUIRE(cert.has_value());
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(cert->get()), device.key.get()) == 1);
  char cn[80] = {}, serial[80] = {}, org[80] = {};
  X509_NAME* subject = X509_get_subject_name(cert->get());
  X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof(cn));
  X509_NAME_get_text_by_NID(subject, NID_serialNumber, serial, sizeof(serial));
  X509_NAME_get_text_by_NID(subject, NID_organizationName, org, sizeof(org));
  CHECK(std::string(cn) == "dev-0001");  // not the CSR's "attacker-chosen"
  CHECK(std::string(serial) == "dev-0001");
  CHECK(std::string(org) == "Acme Devices");
  CHECK(ChainPem(ca).find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(Order(ca, "PO-1").issued == 1);
}

TEST_CASE("issuance is idempotent per device and key, and keys and devices stay bound", "[ca]") {
  CaFixture ca;
  auto station = StationClient::Enroll(ca, "line-1");
  ca.CreateOrder("PO-1", 10, {"line-1"});
  DeviceKey device = DeviceKey::Make();
  auto first = CallIssue(station.stub(), "PO-1", "dev-1", device.csr_der);
  REQUIRE(first.status.ok());
  auto again = CallIssue(station.stub(), "PO-1", "dev-1", device.csr_der);
  REQUIRE(again.status.ok());
  CHECK(again.response.already_issued());
  CHECK(again.response.certificate_der() == first.response.certificate_der());
  CHECK(again.response.audit_seq() == first.response.audit_seq());
  CHECK(Order(ca, "PO-1").issued == 1);

  auto other_key = CallIssue(station.stub(), "PO-1", "dev-1", DeviceKey::Make().csr_der);
  CHECK(other_key.status.error_code() == StatusCode::ALREADY_EXISTS);
  auto cloned = CallIssue(station.stub(), "PO-1", "dev-2", device.csr_der);
  CHECK(cloned.status.error_code() == StatusCode::ALREADY_EXISTS);
  CHECK(cloned.status.error_message() == "public key already bound to another device");
  CHECK(Order(ca, "PO-1").issued == 1);

  std::ostringstream exported;
  REQUIRE(ca::AuditExport(ca.config(), exported).has_value());
  CHECK(exported.str().find("certificate.duplicate_key") != std::string::npos);
  CHECK(exported.str().find("certificate.device_conflict") != std::string::npos);
}

TEST_CASE("orders enforce station lists, quota, state and input rules", "[ca]") {
  CaFixture ca;
  auto line1 = StationClient::Enroll(ca, "line-1");
  auto line2 = StationClient::Enroll(ca, "line-2");
  ca.CreateOrder("PO-1", 2, {"line-1"});
  ca.CreateOrder("PO-2", 5, {"line-1"});

  CHECK(CallIssue(line2.stub(), "PO-1", "dev-1", DeviceKey::Make().csr_der).status.error_code() ==
        StatusCode::PERMISSION_DENIED);
  CHECK(CallIssue(line1.stub(), "PO-9", "dev-1", DeviceKey::Make().csr_der).status.error_code() ==
        StatusCode::NOT_FOUND);
  CHECK(CallIssue(line1.stub(), "PO-1", "dev/1", DeviceKey::Make().csr_der).status.error_code() ==
        StatusCode::INVALID_ARGUMENT);
  CHECK(CallIssue(line1.stub(), "PO-1", std::string(65, 'a'), DeviceKey::Make().csr_der)
            .status.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(CallIssue(line1.stub(), "PO-1", "dev-1", Bytes(100, 0x30)).status.error_code() ==
        StatusCode::INVALID_ARGUMENT);

  CHECK(CallIssue(line1.stub(), "PO-1", "dev-1", DeviceKey::Make().csr_der).status.ok());
  CHECK(CallIssue(line1.stub(), "PO-1", "dev-2", DeviceKey::Make().csr_der).status.ok());
  auto over = CallIssue(line1.stub(), "PO-1", "dev-3", DeviceKey::Make().csr_der);
  CHECK(over.status.error_code() == StatusCode::RESOURCE_EXHAUSTED);
  CHECK(Order(ca, "PO-1").issued == 2);

  REQUIRE(CloseOrder(ca, "PO-2").has_value());
  CHECK(CallIssue(line1.stub(), "PO-2", "dev-4", DeviceKey::Make().csr_der).status.error_code() ==
        StatusCode::FAILED_PRECONDITION);
}

int64_t AuditHead(const CaFixture& ca) {
  auto db = ca::OpenCaDatabase(ca.config()).value();
  auto stmt = db->Prepare("SELECT coalesce(max(seq), 0) FROM audit_log").value();
  REQUIRE(stmt.Step().value());
  return stmt.ColumnInt64(0);
}

TEST_CASE("station calls need a valid, unrevoked station certificate at the handshake and after",
          "[ca]") {
  CaFixture ca;
  auto station = StationClient::Enroll(ca, "line-1");
  ca.CreateOrder("PO-1", 5, {"line-1"});
  Bytes csr = DeviceKey::Make().csr_der;
  ca.server().authority().auth_failures().Flush(true).value();
  int64_t head = AuditHead(ca);

  // The open listener serves enrollment and the chain only.
  auto anonymous = ca.AnonymousStub();
  CHECK(CallIssue(*anonymous, "PO-1", "dev-1", csr).status.error_code() ==
        StatusCode::UNIMPLEMENTED);

  // The station listener refuses a client without a certificate during the TLS handshake.
  grpc::SslCredentialsOptions no_cert;
  no_cert.pem_root_certs = ca.root_pem();
  auto bare = imprint::v1::CertificateAuthority::NewStub(
      grpc::CreateChannel(ca.station_address(), grpc::SslCredentials(no_cert)));
  CHECK(CallIssue(*bare, "PO-1", "dev-1", csr).status.error_code() == StatusCode::UNAVAILABLE);

  // A look-alike station certificate (same names) from a CA that is not this one.
  auto other_root = x509::EvpSigner::Create(x509::GenerateKey("P-256").value()).value();
  x509::CertificateProfile ca_profile;
  ca_profile.is_ca = true;
  ca_profile.key_usage = {"keyCertSign"};
  x509::CertificateRequest root_request{&ca_profile,
                                        {{{"CN", "Acme Devices Root CA"}}, {}, {}, {}},
                                        other_root->public_key(),
                                        Bytes(16, 0x41)};
  auto root = x509::IssueCertificate(root_request, nullptr, *other_root).value();
  auto station_key = x509::GenerateKey("P-256").value();
  x509::CertificateProfile leaf_profile;
  leaf_profile.extended_key_usage = {"clientAuth"};
  x509::CertificateRequest leaf_request{
      &leaf_profile, {{{"CN", "line-1"}}, {}, {}, {}}, station_key.get(), Bytes(16, 0x42)};
  auto leaf = x509::IssueCertificate(leaf_request, root.get(), *other_root).value();
  StationClient impostor(
      ca, x509::CertificateToPem(leaf.get()).value() + x509::CertificateToPem(root.get()).value(),
      PrivateKeyPem(station_key.get()));
  CHECK(CallIssue(impostor.stub(), "PO-1", "dev-1", csr).status.error_code() ==
        StatusCode::UNAVAILABLE);

  // A certificate this CA issued, but to a device: past the handshake, refused by the CA.
  DeviceKey device = DeviceKey::Make();
  auto issued = CallIssue(station.stub(), "PO-1", "dev-1", device.csr_der);
  REQUIRE(issued.status.ok());
  head = AuditHead(ca);
  std::string device_chain = DerToPem(issued.response.certificate_der());
  for (int i = 0; i + 1 < issued.response.chain_der_size(); ++i) {
    device_chain += DerToPem(issued.response.chain_der(i));
  }
  StationClient device_as_station(ca, device_chain, PrivateKeyPem(device.key.get()));
  for (int i = 0; i < 30; ++i) {
    auto refused = CallIssue(device_as_station.stub(), "PO-1", "dev-x", csr);
    CHECK(refused.status.error_code() == StatusCode::UNAUTHENTICATED);
  }

  REQUIRE(ca::StationRevokeCommand(ca.config(), "line-1").has_value());
  // Its certificate goes on the CRL: the serving CA publishes a new one of every list it keeps
  // (the issuing CA's and, holding the root, the root's; one change counter tells them all)
  // within a second or so, each audited as crl.issued. The head is read once all of them are
  // out: read after the first only, a slow machine let the next land after it.
  bool current = false;
  for (int i = 0; i < 600 && !current; ++i) {
    auto db = ca::OpenCaDatabase(ca.config()).value();
    auto stale = db->Prepare(
                       "SELECT (s.changes - s.published_changes) + (SELECT COUNT(*) FROM "
                       "crl_lists l WHERE l.number > 0 AND l.published_changes != s.changes) "
                       "FROM crl_state s")
                     .value();
    REQUIRE(stale.Step().value());
    current = stale.ColumnInt64(0) == 0;
    if (!current) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(current);
  head = AuditHead(ca);  // the revocation and the CRLs are audited, once each
  auto revoked = CallIssue(station.stub(), "PO-1", "dev-2", DeviceKey::Make().csr_der);
  CHECK(revoked.status.error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(revoked.status.error_message() == "station certificate revoked");

  // None of those refusals wrote anything; flushing writes one aggregated record.
  CHECK(AuditHead(ca) == head);
  CHECK(ca.server().authority().auth_failures().pending() == 31);
  REQUIRE(ca.server().authority().auth_failures().Flush(true).has_value());
  CHECK(AuditHead(ca) == head + 1);
  auto db = ca::OpenCaDatabase(ca.config()).value();
  auto last = db->Prepare("SELECT event, detail FROM audit_log ORDER BY seq DESC LIMIT 1").value();
  REQUIRE(last.Step().value());
  CHECK(last.ColumnText(0) == "auth.failed");
  auto detail = nlohmann::json::parse(last.ColumnText(1));
  CHECK(detail["count"] == 31);
  CHECK(detail["reasons"]["client certificate is not a station certificate"] == 30);
  CHECK(detail["reasons"]["station certificate revoked"] == 1);
}

TEST_CASE("concurrent refused peers are each counted once across flushes", "[ca]") {
  CaFixture ca;
  ca.AddStation("line-1");
  ca.server().authority().auth_failures().Flush(true).value();
  int64_t head = AuditHead(ca);
  constexpr int kThreads = 6;
  constexpr int kCalls = 40;
  std::atomic<bool> done{false};
  std::thread flusher([&] {
    while (!done) {
      (void)ca.server().authority().auth_failures().Flush(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  // Catch2's assertions are not thread-safe: outcomes are counted here. The open listener's
  // small thread quota may turn a call away (RESOURCE_EXHAUSTED) before the CA sees it.
  std::atomic<int> denied{0}, turned_away{0}, other{0};
  std::vector<std::thread> peers;
  for (int t = 0; t < kThreads; ++t) {
    peers.emplace_back([&] {
      auto stub = ca.AnonymousStub();
      for (int i = 0; i < kCalls; ++i) {
        imprint::v1::EnrollStationRequest request;
        request.set_station_name("line-1");
        request.set_enrollment_token("wrong");
        imprint::v1::EnrollStationResponse response;
        grpc::ClientContext context;
        auto code = stub->EnrollStation(&context, request, &response).error_code();
        if (code == StatusCode::PERMISSION_DENIED) {
          ++denied;
        } else if (code == StatusCode::RESOURCE_EXHAUSTED) {
          ++turned_away;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& p : peers) p.join();
  done = true;
  flusher.join();
  CHECK(other == 0);
  CHECK(denied + turned_away == kThreads * kCalls);
  CHECK(denied > 0);
  REQUIRE(ca.server().authority().auth_failures().Flush(true).has_value());
  auto db = ca::OpenCaDatabase(ca.config()).value();
  auto rows =
      db->Prepare("SELECT detail FROM audit_log WHERE event = 'auth.failed' AND seq > ?").value();
  rows.BindAll(head);
  int64_t records = 0, counted = 0;
  while (rows.Step().value()) {
    ++records;
    counted += nlohmann::json::parse(rows.ColumnText(0))["count"].get<int64_t>();
  }
  CHECK(counted == denied);  // none lost, none counted twice
  CHECK(records < denied);   // aggregated, not one record each
}

TEST_CASE("default passwords are random, replaceable until reported, and never stored", "[ca]") {
  CaFixture ca;
  auto station = StationClient::Enroll(ca, "line-1");
  ca.CreateOrder("PO-1", 5, {"line-1"});
  imprint::v1::IssueDeviceSecretsResponse secrets;
  CHECK(CallSecrets(station.stub(), "PO-1", "dev-1", &secrets).error_code() ==
        StatusCode::NOT_FOUND);
  DeviceKey device = DeviceKey::Make();
  auto issued = CallIssue(station.stub(), "PO-1", "dev-1", device.csr_der);
  REQUIRE(issued.status.ok());

  REQUIRE(CallSecrets(station.stub(), "PO-1", "dev-1", &secrets).ok());
  REQUIRE(secrets.secrets_size() == 1);
  CHECK(secrets.secrets(0).name() == "default_password");
  std::string first = secrets.secrets(0).value();
  CHECK(first.size() == 14);
  CHECK(first.find_first_not_of("23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ") ==
        std::string::npos);
  imprint::v1::IssueDeviceSecretsResponse replaced;
  REQUIRE(CallSecrets(station.stub(), "PO-1", "dev-1", &replaced).ok());
  std::string second = replaced.secrets(0).value();
  CHECK(second != first);

  REQUIRE(CallReport(station.stub(), "PO-1", "dev-1", issued.response.serial_hex(), true,
                     DeviceProof(device.key.get(), issued.response.challenge()))
              .ok());
  CHECK(CallSecrets(station.stub(), "PO-1", "dev-1", &secrets).error_code() ==
        StatusCode::FAILED_PRECONDITION);
  CHECK(Order(ca, "PO-1").verified == 1);
  CHECK(CallReport(station.stub(), "PO-1", "dev-1", "00", true).error_code() ==
        StatusCode::INVALID_ARGUMENT);

  ca.Stop();  // checkpoint the WAL into the main file, then look for the plaintext anywhere
  for (const auto& entry : std::filesystem::directory_iterator(ca.config().state_dir)) {
    std::string content = ReadFile(entry.path());
    INFO(entry.path());
    CHECK(content.find(first) == std::string::npos);
    CHECK(content.find(second) == std::string::npos);
  }
  std::ostringstream exported;
  REQUIRE(ca::AuditExport(ca.config(), exported).has_value());
  CHECK(exported.str().find(second) == std::string::npos);
  CHECK(exported.str().find("secrets.replaced") != std::string::npos);
}

TEST_CASE("concurrent stations never overrun a quota", "[ca]") {
  CaFixture ca;
  constexpr int kStations = 8;
  constexpr int kPerStation = 50;
  std::vector<StationClient> stations;
  std::vector<std::string> names;
  for (int i = 0; i < kStations; ++i) {
    names.push_back("line-" + std::to_string(i));
    stations.push_back(StationClient::Enroll(ca, names.back()));
  }
  ca.CreateOrder("PO-1", 100, names);
  // Every station connected before the race starts: what is raced is the quota. (Under TSan one
  // station's 50 calls once all failed, neither issued nor exhausted, as a channel whose first
  // connect failed fails each call at once; its answers are now shown below.)
  for (auto& station : stations) REQUIRE(station.WaitUntilConnected(std::chrono::seconds(60)));
  std::vector<std::vector<DeviceKey>> keys(kStations);
  for (auto& k : keys) {
    for (int i = 0; i < kPerStation; ++i) k.push_back(DeviceKey::Make());
  }
  std::vector<std::vector<std::string>> issued(kStations);
  std::vector<int> exhausted(kStations, 0);
  std::vector<std::vector<std::string>> other(kStations);  // neither issued nor exhausted
  std::vector<std::thread> threads;
  for (int s = 0; s < kStations; ++s) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < kPerStation; ++i) {
        auto call =
            CallIssue(stations[s].stub(), "PO-1",
                      "dev-" + std::to_string(s) + "-" + std::to_string(i), keys[s][i].csr_der);
        if (call.status.ok()) {
          issued[s].push_back(call.response.serial_hex());
        } else if (call.status.error_code() == StatusCode::RESOURCE_EXHAUSTED) {
          ++exhausted[s];
        } else {
          other[s].push_back(std::to_string(call.status.error_code()) + " " +
                             call.status.error_message());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> serials;
  int total_exhausted = 0;
  for (int s = 0; s < kStations; ++s) {
    serials.insert(issued[s].begin(), issued[s].end());
    total_exhausted += exhausted[s];
  }
  for (int s = 0; s < kStations; ++s) {
    INFO("line-" << s << ": " << other[s].size()
                 << " other answers, first: " << (other[s].empty() ? "" : other[s][0]));
    CHECK(other[s].empty());
  }
  CHECK(serials.size() == 100);
  CHECK(total_exhausted == kStations * kPerStation - 100);
  CHECK(Order(ca, "PO-1").issued == 100);
  ca.Stop();
  auto audit = ca::AuditVerify(ca.config());
  REQUIRE(audit.has_value());
  CHECK(audit->last_sealed == audit->records);
}

TEST_CASE("a restarted CA keeps every certificate and answers retries the same", "[ca]") {
  CaFixture ca;
  auto station = StationClient::Enroll(ca, "line-1");
  ca.CreateOrder("PO-1", 5, {"line-1"});
  DeviceKey device = DeviceKey::Make();
  auto first = CallIssue(station.stub(), "PO-1", "dev-1", device.csr_der);
  REQUIRE(first.status.ok());
  ca.Restart();
  StationClient reconnected(ca, station.cert_pem(), station.key_pem());  // the port changed
  auto retry = CallIssue(reconnected.stub(), "PO-1", "dev-1", device.csr_der);
  REQUIRE(retry.status.ok());
  CHECK(retry.response.already_issued());
  CHECK(retry.response.certificate_der() == first.response.certificate_der());
  CHECK(Order(ca, "PO-1").issued == 1);
  ca.Stop();
  CHECK(ca::AuditVerify(ca.config()).has_value());
}

}  // namespace
}  // namespace imprint::testing
