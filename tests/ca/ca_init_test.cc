// `imprint-ca init` on tokens that cannot finish it: one without the mechanisms the key type
// needs is refused before any key exists, and a ceremony that fails after making keys takes
// them back, so the token and the state directory are as they were and init can run again.
// Through the fault-injecting module (tests/support/fault_pkcs11.cc) over a SoftHSM token.

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "ca/admin.h"
#include "ca/config.h"
#include "common/pkcs11/session_pool.h"
#include "common/x509/encoding.h"
#include "tests/support/build_paths.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/temp_dir.h"

namespace imprint::testing {
namespace {

struct InitOnFaultyToken {
  explicit InitOnFaultyToken(const std::string& key_type = "P-256")
      : token("imprint-ca", false), schedule((token.dir() / "faults").string()) {
    ::setenv("IMPRINT_FAULT_SCHEDULE", schedule.c_str(), 1);
    ::setenv("IMPRINT_FAULT_REAL_MODULE", kSoftHsmModule, 1);
    ::unsetenv("IMPRINT_FAULT_HIDE_EC");
    Set("none");
    std::ostringstream toml;
    toml << "[hsm]\nmodule = \"" << FaultModule() << "\"\n"
         << "token_uri = \"pkcs11:token=imprint-ca\"\npin_file = \"" << token.pin_file().string()
         << "\"\n[ca]\nstate_dir = \"" << state_dir().string() << "\"\n"
         << "organization = \"Acme Devices\"\nkey_type = \"" << key_type << "\"\n"
         << "[server]\nlisten = \"127.0.0.1:0\"\n";
    WriteFile(token.dir() / "ca.toml", toml.str(), 0644);
    config = ca::CaConfig::Load((token.dir() / "ca.toml").string()).value();
  }
  ~InitOnFaultyToken() {
    Set("none");
    ::unsetenv("IMPRINT_FAULT_HIDE_EC");
  }

  void Set(const std::string& line) {
    WriteFile(schedule, line + "\n", 0644);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a new mtime for the module
  }
  std::filesystem::path state_dir() const { return token.dir() / "state"; }

  Status Init(std::string* out = nullptr) {
    std::ostringstream stream;
    Status status = ca::Init(config, false, stream);
    if (out != nullptr) *out = stream.str();
    return status;
  }

  // Every object a logged-in user can see in the token, read through SoftHSM itself.
  size_t TokenObjects() const {
    auto module = p11::Module::Load(kSoftHsmModule).value();
    auto slot = module->FindTokenSlot(p11::Uri::Parse("pkcs11:token=imprint-ca").value()).value();
    auto pool = p11::SessionPool::Open(module, slot, Secret::CopyOf(token.user_pin()), 1).value();
    auto lease = pool->Acquire().value();
    REQUIRE(lease.api()->C_FindObjectsInit(lease.handle(), nullptr, 0) == CKR_OK);
    CK_OBJECT_HANDLE handles[64];
    CK_ULONG count = 0;
    CK_RV rv = lease.api()->C_FindObjects(lease.handle(), handles, 64, &count);
    lease.api()->C_FindObjectsFinal(lease.handle());
    REQUIRE(rv == CKR_OK);
    return count;
  }

  SoftHsmToken token;
  std::string schedule;
  ca::CaConfig config;
};

TEST_CASE("a token without the key type's mechanisms is refused before any key is made", "[init]") {
  InitOnFaultyToken t("P-256");
  ::setenv("IMPRINT_FAULT_HIDE_EC", "1", 1);
  Status status = t.Init();
  REQUIRE_FALSE(status.has_value());
  const std::string& message = status.error().message();
  INFO(message);
  CHECK(status.error().code() == Code::kFailedPrecondition);
  CHECK_THAT(message, Catch::Contains("key_type P-256"));
  // Each missing mechanism once, with every key that needed it.
  CHECK_THAT(message, Catch::Contains("CKM_EC_KEY_PAIR_GEN (for imprint-root P-256, "
                                      "imprint-issuing P-256, imprint-audit P-256): not offered"));
  CHECK_THAT(message, Catch::Contains("CKM_ECDSA (for imprint-root P-256"));
  CHECK_THAT(message, Catch::Contains(FaultModule()));
  CHECK_THAT(message, Catch::Contains("No key was made"));
  CHECK_THAT(message, !Catch::Contains("HMAC"));  // the token offers what the verifier needs
  CHECK(t.TokenObjects() == 0);
  CHECK_FALSE(std::filesystem::exists(t.state_dir()));
}

TEST_CASE("on a token without elliptic curves an RSA-3072 CA is whole, audit key included",
          "[init]") {
  InitOnFaultyToken t("RSA-3072");
  ::setenv("IMPRINT_FAULT_HIDE_EC", "1", 1);
  REQUIRE(t.Init().has_value());
  auto audit_pem = ReadFile(t.config.AuditKeyPemPath());
  auto audit_key = x509::ParsePublicKeyPem(audit_pem);
  REQUIRE(audit_key.has_value());
  CHECK(EVP_PKEY_is_a(audit_key->get(), "RSA"));
  CHECK(EVP_PKEY_get_bits(audit_key->get()) == 3072);
  CHECK(t.TokenObjects() >= 7);  // three key pairs, the verifier key, the audit anchor
}

TEST_CASE("an init that fails after making keys removes them and its files", "[init]") {
  InitOnFaultyToken t("P-256");
  t.Set("device_error only C_SignInit");  // the first signature: the genesis checkpoint
  Status status = t.Init();
  REQUIRE_FALSE(status.has_value());
  INFO(status.error().message());
  CHECK_THAT(status.error().message(), Catch::Contains("audit log cannot be sealed"));
  CHECK_THAT(status.error().message(), Catch::Contains("the token is as it was"));
  CHECK(t.TokenObjects() == 0);
  CHECK_FALSE(std::filesystem::exists(t.state_dir()));

  // Nothing is left to refuse the next ceremony.
  t.Set("none");
  std::string out;
  REQUIRE(t.Init(&out).has_value());
  CHECK_THAT(out, Catch::Contains("CA initialised"));
}

TEST_CASE("a failure after the audit log is sealed takes back the anchor, and only what init made",
          "[init]") {
  InitOnFaultyToken t("P-256");
  // Something in the way of the TLS key, the last file init writes: made before init, so kept.
  std::filesystem::create_directories(t.config.TlsKeyPath());
  WriteFile(t.state_dir() / "operator-notes.txt", "keep me\n", 0644);
  Status status = t.Init();
  REQUIRE_FALSE(status.has_value());
  INFO(status.error().message());
  CHECK_THAT(status.error().message(), Catch::Contains("the token is as it was"));
  CHECK(t.TokenObjects() == 0);  // the anchor too: it was written by the genesis checkpoint
  CHECK(std::filesystem::is_directory(t.config.TlsKeyPath()));
  CHECK(ReadFile(t.state_dir() / "operator-notes.txt") == "keep me\n");
  for (const std::string& path : {t.config.DatabasePath(), t.config.AuditKeyPemPath(),
                                  t.config.RootPemPath(), t.config.ChainPemPath()}) {
    CHECK_FALSE(std::filesystem::exists(path));
  }
}

TEST_CASE("an init whose keys the token will not destroy names them and how to remove them",
          "[init]") {
  InitOnFaultyToken t("P-256");
  t.Set("device_error only C_SignInit,C_DestroyObject");
  Status status = t.Init();
  REQUIRE_FALSE(status.has_value());
  const std::string& message = status.error().message();
  INFO(message);
  for (const char* label :
       {"imprint-root", "imprint-issuing", "imprint-audit", "imprint-secret-verifier"}) {
    CHECK_THAT(message, Catch::Contains(std::string("  - ") + label + " ("));
  }
  CHECK_THAT(message, Catch::Contains("C_DestroyObject: CKR_DEVICE_ERROR"));
  CHECK_THAT(message, !Catch::Contains("imprint-audit-anchor"));  // never written: nothing sealed
  // The files are gone even so: the next init is refused by the token's keys, by name.
  CHECK_FALSE(std::filesystem::exists(t.state_dir()));
  t.Set("none");
  Status again = t.Init();
  REQUIRE_FALSE(again.has_value());
  CHECK_THAT(again.error().message(), Catch::Contains("labelled imprint-root"));

  // The commands the message gives, run as printed (GnuTLS p11tool, the PIN in its environment
  // variable) but for the module path, leave a token the next init accepts.
  std::istringstream lines(message);
  std::string line;
  int commands = 0;
  ::setenv("GNUTLS_PIN", t.token.user_pin().c_str(), 1);
  while (std::getline(lines, line)) {
    if (line.rfind("    p11tool ", 0) != 0) continue;
    ++commands;
    // Through SoftHSM itself, the module under the fault module: p11tool is not built with the
    // sanitizers, so it cannot load the fault module of a sanitizer build.
    std::string provider = FaultModule();
    REQUIRE(line.find(provider) != std::string::npos);
    line.replace(line.find(provider), provider.size(), kSoftHsmModule);
    CHECK(std::system((line + " >/dev/null 2>&1").c_str()) == 0);
  }
  ::unsetenv("GNUTLS_PIN");
  CHECK(commands == 4);
  CHECK(t.TokenObjects() == 0);
  REQUIRE(t.Init().has_value());
}

}  // namespace
}  // namespace imprint::testing
