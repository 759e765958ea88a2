// The device agent's rules and its crash consistency.

#include "device_agent/device.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "common/proof.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/support/temp_dir.h"

namespace imprint::agent {
namespace {

using testing::TempDir;

// A throwaway CA that signs whatever CSR the device produced.
struct TestCa {
  std::unique_ptr<x509::EvpSigner> signer =
      x509::EvpSigner::Create(x509::GenerateKey("P-256").value()).value();
  x509::X509Ptr root;
  TestCa() {
    x509::CertificateProfile profile;
    profile.is_ca = true;
    profile.key_usage = {"keyCertSign"};
    x509::CertificateRequest r{&profile,
                               {{{"CN", "Test Root"}}, {}, {}, {}},
                               signer->public_key(),
                               x509::MakeSerial(Bytes(16, 0x11))};
    root = x509::IssueCertificate(r, nullptr, *signer).value();
  }
  Credentials Issue(const Bytes& csr_der, const std::string& password = "pw-abcdefgh") {
    auto csr = x509::ParseAndVerifyCsr(csr_der).value();
    x509::CertificateProfile profile;
    profile.extended_key_usage = {"clientAuth"};
    x509::CertificateRequest r{&profile,
                               {{{"CN", "dev"}}, {}, {}, {}},
                               csr.public_key.get(),
                               x509::MakeSerial(Bytes(16, 0x22))};
    auto cert = x509::IssueCertificate(r, root.get(), *signer).value();
    Credentials c;
    c.certificate_der = x509::CertificateToDer(cert.get()).value();
    c.chain_der = {x509::CertificateToDer(root.get()).value()};
    c.secrets.emplace_back("default_password", Secret::CopyOf(password));
    return c;
  }
};

std::unique_ptr<Device> OpenDevice(const std::string& dir, Bytes ca_root_sha256 = {}) {
  auto store = DeviceStore::Open(dir);
  REQUIRE(store.has_value());
  auto device = Device::Open({"HW-1", "cam", "1.0", std::move(ca_root_sha256)}, std::move(*store),
                             MakeFileKeyBackend(dir));
  REQUIRE(device.has_value());
  return std::move(*device);
}

TEST_CASE("a device walks its states and locks itself after commit", "[agent]") {
  TempDir dir;
  TestCa ca;
  auto device = OpenDevice(dir.path().string());
  CHECK(device->GetIdentity().state == State::kFactoryNew);
  auto csr = device->CreateKeyAndCsr("", false);
  REQUIRE(csr.has_value());
  CHECK(device->GetIdentity().state == State::kKeyGenerated);
  CHECK((std::filesystem::status(dir / "device-key.pem").permissions() &
         std::filesystem::perms::group_all) == std::filesystem::perms::none);

  // A retry gets a CSR for the same key, so the CA can answer with the same certificate.
  auto again = device->CreateKeyAndCsr("", false);
  CHECK(EVP_PKEY_eq(x509::ParseAndVerifyCsr(*csr)->public_key.get(),
                    x509::ParseAndVerifyCsr(*again)->public_key.get()) == 1);

  REQUIRE(device->InstallCredentials(ca.Issue(*csr)).has_value());
  CHECK(device->GetIdentity().state == State::kCredentialsStaged);
  Bytes nonce(32, 7);
  auto proof = device->ProveIdentity(nonce);
  REQUIRE(proof.has_value());
  auto cert = x509::ParseCertificateDer(ca.Issue(*csr).certificate_der).value();
  CHECK(x509::VerifySignature(X509_get0_pubkey(cert.get()), x509::SignatureAlgorithm::kEcdsaSha256,
                              ProofMessage(nonce), *proof));
  CHECK_FALSE(x509::VerifySignature(X509_get0_pubkey(cert.get()),
                                    x509::SignatureAlgorithm::kEcdsaSha256, nonce, *proof));

  REQUIRE(device->Commit().has_value());
  Identity id = device->GetIdentity();
  CHECK(id.state == State::kCommitted);
  CHECK_FALSE(id.certificate_der.empty());
  CHECK(device->CreateKeyAndCsr("", true).error().code() == Code::kFailedPrecondition);
  CHECK(device->InstallCredentials(ca.Issue(*csr)).error().code() == Code::kFailedPrecondition);
  // A committed device still proves its identity, with its committed key.
  Bytes later(32, 9);
  auto committed_proof = device->ProveIdentity(later);
  REQUIRE(committed_proof.has_value());
  CHECK(x509::VerifySignature(X509_get0_pubkey(cert.get()), x509::SignatureAlgorithm::kEcdsaSha256,
                              ProofMessage(later), *committed_proof));
  CHECK(device->Commit().error().code() == Code::kFailedPrecondition);
  CHECK(std::filesystem::exists(dir / "certificate.pem"));
  CHECK(std::filesystem::exists(dir / "chain.pem"));
  CHECK(testing::ReadFile(dir / "secrets.json").find("pw-abcdefgh") != std::string::npos);

  // State survives a restart.
  device.reset();
  auto reopened = OpenDevice(dir.path().string());
  CHECK(reopened->GetIdentity().state == State::kCommitted);
}

TEST_CASE("credentials for another key or with a broken chain change nothing", "[agent]") {
  TempDir dir;
  TestCa ca;
  TestCa other_ca;
  auto device = OpenDevice(dir.path().string());
  Bytes csr = device->CreateKeyAndCsr("", false).value();
  auto stranger = x509::EvpSigner::Create(x509::GenerateKey("P-256").value()).value();
  Bytes stranger_csr = x509::BuildCsr(*stranger, {{"CN", "x"}}).value();

  auto wrong_key = device->InstallCredentials(ca.Issue(stranger_csr));
  CHECK(wrong_key.error().code() == Code::kInvalidArgument);
  Credentials broken = ca.Issue(csr);
  broken.chain_der = {x509::CertificateToDer(other_ca.root.get()).value()};
  CHECK(device->InstallCredentials(std::move(broken)).error().code() == Code::kInvalidArgument);
  Credentials bad_secret = ca.Issue(csr, std::string("pw\nwith newline"));
  CHECK(device->InstallCredentials(std::move(bad_secret)).error().code() == Code::kInvalidArgument);
  CHECK(device->GetIdentity().state == State::kKeyGenerated);
  CHECK_FALSE(std::filesystem::exists(dir / "staged.json"));
  CHECK(device->ProveIdentity(Bytes(32, 1)).error().code() == Code::kFailedPrecondition);
}

TEST_CASE("a device with a pinned root refuses a complete chain to any other root", "[agent]") {
  TempDir dir;
  TestCa ca;
  TestCa rogue;  // same names, its own key: what a rogue programmer on the fixture would bring
  Bytes pinned = x509::Sha256(x509::CertificateToDer(ca.root.get()).value());
  auto device = OpenDevice(dir.path().string(), pinned);
  Bytes csr = device->CreateKeyAndCsr("", false).value();
  auto refused = device->InstallCredentials(rogue.Issue(csr, "admin123"));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code() == Code::kInvalidArgument);
  CHECK(refused.error().message().find("trusted CA root") != std::string::npos);
  CHECK(device->GetIdentity().state == State::kKeyGenerated);
  REQUIRE(device->InstallCredentials(ca.Issue(csr)).has_value());
  CHECK(device->GetIdentity().state == State::kCredentialsStaged);
}

TEST_CASE("a fresh key replaces an uncommitted one", "[agent]") {
  TempDir dir;
  auto device = OpenDevice(dir.path().string());
  Bytes first = device->CreateKeyAndCsr("P-256", false).value();
  Bytes fresh = device->CreateKeyAndCsr("P-384", true).value();
  auto a = x509::ParseAndVerifyCsr(first).value();
  auto b = x509::ParseAndVerifyCsr(fresh).value();
  CHECK(EVP_PKEY_eq(a.public_key.get(), b.public_key.get()) != 1);
  CHECK(b.key_info.kind == x509::KeyKind::kEcP384);
  CHECK(device->CreateKeyAndCsr("P-256", false).error().code() == Code::kFailedPrecondition);
}

// Runs `action` in a child process that dies (like kill -9 / power loss) at the n-th durable
// step; returns false when the action finished before reaching that step.
template <typename Action>
bool CrashAtStep(const std::string& dir, int n, Action action) {
  pid_t pid = ::fork();
  if (pid == 0) {
    auto device = OpenDevice(dir);
    int seen = 0;
    device->store().SetCrashHook([&](std::string_view) {
      if (++seen == n) ::_exit(42);
    });
    action(*device);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 42;
}

TEST_CASE("a device killed at any step of install or commit is in the old or the new state",
          "[agent]") {
  TestCa ca;
  int steps_tried = 0;
  for (int step = 1;; ++step) {
    ++steps_tried;
    TempDir dir;
    Bytes csr;
    {
      auto device = OpenDevice(dir.path().string());
      csr = device->CreateKeyAndCsr("", false).value();
    }
    Credentials credentials = ca.Issue(csr);
    bool crashed = CrashAtStep(dir.path().string(), step, [&](Device& d) {
      Credentials c = ca.Issue(csr);
      REQUIRE(d.InstallCredentials(std::move(c)).has_value());
      REQUIRE(d.Commit().has_value());
    });
    auto device = OpenDevice(dir.path().string());
    State state = device->GetIdentity().state;
    INFO("crash at step " << step << ", state " << StateName(state));
    bool committed = state == State::kCommitted;
    CHECK(std::filesystem::exists(dir / "certificate.pem") == committed);
    CHECK(std::filesystem::exists(dir / "secrets.json") == committed);
    CHECK(state != State::kCredentialsStaged);  // staging is not kept across a restart
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      CHECK(entry.path().extension() != ".tmp");
    }
    // Whatever the state, provisioning can be completed from it.
    if (state == State::kKeyGenerated) REQUIRE(device->InstallCredentials(ca.Issue(csr)));
    if (state != State::kCommitted) REQUIRE(device->Commit().has_value());
    CHECK(device->GetIdentity().state == State::kCommitted);
    if (!crashed) break;  // the action ran to the end: every step has been tried
  }
  // the record's temp; its rename; the commit point; the certificate and chain copies; done
  CHECK(steps_tried == 6);
}

TEST_CASE("a restart before commit keeps the key and drops the staged credentials", "[agent]") {
  TempDir dir;
  TestCa ca;
  Bytes csr;
  {
    auto device = OpenDevice(dir.path().string());
    csr = device->CreateKeyAndCsr("P-384", false).value();
    REQUIRE(device->InstallCredentials(ca.Issue(csr)).has_value());
  }
  auto device = OpenDevice(dir.path().string());
  CHECK(device->GetIdentity().state == State::kKeyGenerated);
  CHECK_FALSE(std::filesystem::exists(dir / "state.json"));
  CHECK(device->Commit().error().code() == Code::kFailedPrecondition);
  // The key type is read back from the key itself.
  CHECK(device->CreateKeyAndCsr("P-256", false).error().code() == Code::kFailedPrecondition);
  Bytes again = device->CreateKeyAndCsr("", false).value();
  CHECK(EVP_PKEY_eq(x509::ParseAndVerifyCsr(csr)->public_key.get(),
                    x509::ParseAndVerifyCsr(again)->public_key.get()) == 1);
}

TEST_CASE("a committed device restores lost or damaged credential copies from its record",
          "[agent]") {
  TempDir dir;
  TestCa ca;
  std::string certificate_pem;
  {
    auto device = OpenDevice(dir.path().string());
    Bytes csr = device->CreateKeyAndCsr("", false).value();
    REQUIRE(device->InstallCredentials(ca.Issue(csr, "pw-restored1")).has_value());
    REQUIRE(device->Commit().has_value());
    certificate_pem = testing::ReadFile(dir / "certificate.pem");
  }
  CHECK((std::filesystem::status(dir / "state.json").permissions() &
         std::filesystem::perms::others_all) == std::filesystem::perms::none);
  std::filesystem::remove(dir / "secrets.json");
  testing::WriteFile(dir / "certificate.pem", "half a certif", 0644);
  auto device = OpenDevice(dir.path().string());
  CHECK(device->GetIdentity().state == State::kCommitted);
  CHECK(testing::ReadFile(dir / "certificate.pem") == certificate_pem);
  CHECK(testing::ReadFile(dir / "secrets.json").find("pw-restored1") != std::string::npos);
  CHECK((std::filesystem::status(dir / "secrets.json").permissions() &
         std::filesystem::perms::others_all) == std::filesystem::perms::none);
}

TEST_CASE("a corrupt commit record is refused, not taken for a new device", "[agent]") {
  TempDir dir;
  testing::WriteFile(dir / "state.json", "{\"state\":\"COMMITTED\",\"version\":2}", 0600);
  auto store = DeviceStore::Open(dir.path().string());
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().code() == Code::kDataLoss);
}

TEST_CASE("temp files of an interrupted write are removed on start", "[agent]") {
  TempDir dir;
  {
    auto device = OpenDevice(dir.path().string());
    REQUIRE(device->CreateKeyAndCsr("", false).has_value());
  }
  testing::WriteFile(dir / "state.json.tmp", "{\"state\":\"COMMITTED\"", 0600);
  testing::WriteFile(dir / "certificate.pem", "half a certificate", 0644);
  auto device = OpenDevice(dir.path().string());
  CHECK(device->GetIdentity().state == State::kKeyGenerated);
  CHECK_FALSE(std::filesystem::exists(dir / "state.json.tmp"));
  CHECK_FALSE(std::filesystem::exists(dir / "certificate.pem"));
}

}  // namespace
}  // namespace imprint::agent
