// The CA under HSM faults, through the fault-injecting PKCS#11 module: while faults last it
// answers UNAVAILABLE (never INTERNAL, never a bad certificate), it never records a certificate
// it did not return nor returns one it did not record, and once faults stop it serves again
// without a restart.

#include <openssl/cms.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "ca/admin.h"
#include "ca/admin_cli.h"
#include "ca/audit/commands.h"
#include "ca/matter/pai.h"
#include "ca/store/store.h"
#include "common/matter/tlv.h"
#include "common/x509/chain.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/ca/ca_test_util.h"
#include "tests/support/build_paths.h"
#include "tests/support/ca_fixture.h"

namespace imprint::testing {
namespace {

struct FaultyCa {
  FaultyCa() {
    ::setenv("IMPRINT_FAULT_SCHEDULE", schedule.c_str(), 1);
    ::setenv("IMPRINT_FAULT_REAL_MODULE", kSoftHsmModule, 1);
    Set("none");
    CaFixtureOptions options;
    options.module = FaultModule();
    ca = std::make_unique<CaFixture>(options);
    station = std::make_unique<StationClient>(StationClient::Enroll(*ca, "line-1"));
    ca->CreateOrder("PO-1", 100000, {"line-1"});
  }
  ~FaultyCa() { Set("none"); }

  void Set(const std::string& schedule_line) {
    WriteFile(schedule, schedule_line + "\n", 0644);
    // The module notices a change by mtime; make sure consecutive writes differ.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  IssueCall Issue(const std::string& device) {
    return CallIssue(station->stub(), "PO-1", device, DeviceKey::Make().csr_der);
  }

  // Device id -> certificate DER, as recorded by the CA.
  std::map<std::string, std::string> Recorded() {
    auto db = ca::OpenCaDatabase(ca->config());
    REQUIRE(db.has_value());
    auto stmt = (*db)->Prepare("SELECT device_id, certificate_der FROM devices");
    std::map<std::string, std::string> out;
    while (stmt->Step().value()) {
      Bytes der = stmt->ColumnBlob(1);
      out[stmt->ColumnText(0)] = std::string(der.begin(), der.end());
    }
    return out;
  }

  std::string schedule = TempPath();
  std::unique_ptr<CaFixture> ca;
  std::unique_ptr<StationClient> station;

 private:
  static std::string TempPath() {
    static TempDir dir;
    return (dir / "faults").string();
  }
};

void ExpectCleanUnavailable(const grpc::Status& status) {
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(status.error_message().find("CKR_") == std::string::npos);
  CHECK(status.error_message() != "internal error");
}

TEST_CASE("during every kind of HSM fault the CA answers UNAVAILABLE, then recovers",
          "[ca-fault]") {
  FaultyCa f;
  REQUIRE(f.Issue("warm-up").status.ok());
  int n = 0;
  for (const char* kind :
       {"device_error", "session_invalid", "session_closed", "token_not_present"}) {
    INFO(kind);
    f.Set(kind);
    for (int i = 0; i < 3; ++i)
      ExpectCleanUnavailable(f.Issue("fault-" + std::to_string(n++)).status);
    f.Set("none");
    auto after = f.Issue("after-" + std::string(kind));
    INFO(after.status.error_message());
    CHECK(after.status.ok());  // no restart needed
  }
  auto recorded = f.Recorded();
  for (const auto& [device, der] : recorded) CHECK(device.rfind("fault-", 0) != 0);
  CHECK(recorded.size() == 5);
}

TEST_CASE("under intermittent faults every returned certificate is recorded and valid",
          "[ca-fault]") {
  FaultyCa f;
  f.Set("device_error every 3");
  std::mutex mu;
  std::map<std::string, std::string> returned;
  int unavailable = 0, other = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      StationClient client(*f.ca, f.station->cert_pem(), f.station->key_pem());
      for (int i = 0; i < 40; ++i) {
        std::string device = "load-" + std::to_string(t) + "-" + std::to_string(i);
        auto call = CallIssue(client.stub(), "PO-1", device, DeviceKey::Make().csr_der);
        std::lock_guard lock(mu);
        if (call.status.ok())
          returned[device] = call.response.certificate_der();
        else if (call.status.error_code() == grpc::StatusCode::UNAVAILABLE)
          ++unavailable;
        else
          ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  f.Set("none");
  CHECK(other == 0);
  CHECK(unavailable > 0);  // the faults really happened
  CHECK(returned.size() > 0);
  auto recorded = f.Recorded();
  CHECK(recorded == returned);  // nothing recorded that was not returned, and the reverse

  auto root = x509::ParseCertificatePem(f.ca->root_pem()).value();
  auto chain = x509::ParseCertificatesPem(ReadFile(f.ca->config().ChainPemPath())).value();
  std::vector<X509*> intermediates{chain[0].get()};
  for (const auto& [device, der] : returned) {
    auto cert = x509::ParseCertificateDer(AsBytes(der)).value();
    CHECK(x509::VerifyChain(cert.get(), intermediates, root.get()).has_value());
  }
  CHECK(f.Issue("after-load").status.ok());
  f.ca->Stop();
  CHECK(ca::AuditVerify(f.ca->config()).has_value());
}

TEST_CASE("a slow HSM slows issuance down but does not break it", "[ca-fault]") {
  FaultyCa f;
  f.Set("slow 150");
  auto start = std::chrono::steady_clock::now();
  auto call = f.Issue("slow-1");
  CHECK(call.status.ok());
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
}

TEST_CASE("a serial already recorded is never issued again: signed anew, then refused",
          "[ca-fault]") {
  FaultyCa f;
  // From now on the token's generator returns constant bytes. The CA draws serials from a
  // 4 KiB block of them (48 bytes per device), so once the block it holds runs out, the next
  // device gets serial 5a5a..., and the one after can never get a serial of its own.
  f.Set("constant_random");
  int issued = 0;
  IssueCall refused;
  for (int i = 0; i < 200; ++i) {
    auto call = f.Issue("dev-" + std::to_string(i));
    if (!call.status.ok()) {
      refused = call;
      break;
    }
    ++issued;
  }
  REQUIRE(issued < 200);
  CHECK(refused.status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(refused.status.error_message().find("serial number clash") != std::string::npos);
  // Nothing recorded for the refused device: every recorded serial is distinct.
  auto recorded = f.Recorded();
  CHECK(recorded.size() == static_cast<size_t>(issued));
  CHECK(recorded.count("dev-" + std::to_string(issued)) == 0);
}

// A Certification Declaration for FFF1/8000 signed by a throwaway signer: its DER and the
// signer's certificate (PEM).
std::pair<Bytes, std::string> TestCd() {
  auto signer = x509::EvpSigner::Create(x509::GenerateKey("P-256").value()).value();
  x509::CertificateProfile profile;
  profile.is_ca = true;
  profile.key_usage = {"keyCertSign"};
  x509::CertificateRequest request{
      &profile, {{{"CN", "CD signer"}}, {}, {}, {}}, signer->public_key(), Bytes(16, 0x21)};
  auto cert = x509::IssueCertificate(request, nullptr, *signer).value();
  matter::TlvWriter w;
  w.StartStructure();
  w.PutUnsigned(0, 1);
  w.PutUnsigned(1, 0xFFF1);
  w.StartArray(2);
  w.PutUnsigned(std::nullopt, 0x8000);
  w.EndContainer();
  w.PutUnsigned(3, 22);
  w.PutUtf8(4, "CSA00000SWC00000-00");
  for (uint8_t tag : {5, 6, 8}) w.PutUnsigned(tag, 0);
  w.PutUnsigned(7, 1);
  w.EndContainer();
  Bytes content = w.Finish();
  x509::BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  x509::Owned<CMS_ContentInfo, CMS_ContentInfo_free> cms(
      CMS_sign(nullptr, nullptr, nullptr, nullptr, CMS_BINARY | CMS_PARTIAL));
  // An EvpSigner holds the whole key pair, which CMS needs.
  REQUIRE(CMS_add1_signer(cms.get(), cert.get(), signer->public_key(), EVP_sha256(),
                          CMS_BINARY | CMS_NOCERTS | CMS_USE_KEYID | CMS_NOATTR) != nullptr);
  REQUIRE(CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) == 1);
  Bytes der(static_cast<size_t>(i2d_CMS_ContentInfo(cms.get(), nullptr)));
  unsigned char* p = der.data();
  i2d_CMS_ContentInfo(cms.get(), &p);
  return {der, x509::CertificateToPem(cert.get()).value()};
}

TEST_CASE("a Matter passcode never repeats within an order: drawn again, then refused",
          "[ca-fault]") {
  FaultyCa f;
  const ca::CaConfig& config = f.ca->config();
  REQUIRE(ca::CreatePai(config, {"acme", 0xFFF1, 0x8000}).has_value());
  REQUIRE(ca::CreateTestPaa(config, 0xFFF1).has_value());
  auto [cd, cd_signer] = TestCd();
  ca::OrderSpec spec{"PO-M", "bulb", 10, {"line-1"}};
  spec.matter = ca::MatterOrderSpec{"acme", 0x8000, cd, cd_signer, std::nullopt, 1000};
  REQUIRE(ca::OrderCreateCommand(config, spec).has_value());
  for (const char* device : {"bulb-1", "bulb-2"}) {
    auto issued = CallIssue(f.station->stub(), "PO-M", device, DeviceKey::Make().csr_der);
    REQUIRE(issued.status.ok());
    REQUIRE(issued.response.matter());
  }
  // From now on the token's generator returns constant bytes: the second device's passcode can
  // only be the first one's.
  f.Set("constant_random");
  imprint::v1::IssueDeviceSecretsResponse first, second;
  REQUIRE(CallSecrets(f.station->stub(), "PO-M", "bulb-1", &first).ok());
  grpc::Status repeated = CallSecrets(f.station->stub(), "PO-M", "bulb-2", &second);
  CHECK(repeated.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(repeated.error_message().find("no unrepeated Matter passcode") != std::string::npos);
  CHECK(second.secrets_size() == 0);
  auto db = ca::OpenCaDatabase(config).value();
  auto rows = db->Prepare("SELECT device_id FROM matter_devices WHERE order_id = 'PO-M'").value();
  std::vector<std::string> with_data;
  while (rows.Step().value()) with_data.push_back(rows.ColumnText(0));
  CHECK(with_data == std::vector<std::string>{"bulb-1"});
  // With the generator back, the second device gets a passcode of its own.
  f.Set("none");
  REQUIRE(CallSecrets(f.station->stub(), "PO-M", "bulb-2", &second).ok());
  auto passcode = [](const imprint::v1::IssueDeviceSecretsResponse& r) {
    for (const auto& s : r.secrets()) {
      if (s.name() == "matter_passcode") return s.value();
    }
    return std::string();
  };
  CHECK(passcode(first).size() == 8);
  CHECK(passcode(second).size() == 8);
  CHECK(passcode(first) != passcode(second));
}

}  // namespace
}  // namespace imprint::testing
