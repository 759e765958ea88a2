#include <catch2/catch.hpp>
#include <set>

#include "ca/ca_files.h"
#include "ca/config.h"
#include "tests/support/temp_dir.h"

namespace imprint::ca {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr const char* kMinimal = R"(
[hsm]
module = "/usr/lib/softhsm/libsofthsm2.so"
token_uri = "pkcs11:token=imprint-ca"
pin_env = "IMPRINT_CA_PIN"
[ca]
state_dir = "/var/lib/imprint-ca"
organization = "Acme Devices"
[server]
listen = "127.0.0.1:7443"
)";

Result<CaConfig> LoadText(const TempDir& dir, const std::string& text) {
  WriteFile(dir / "ca.toml", text, 0644);
  return CaConfig::Load((dir / "ca.toml").string());
}

TEST_CASE("a minimal config gets sensible defaults and the built-in profiles", "[config]") {
  TempDir dir;
  auto config = LoadText(dir, kMinimal);
  REQUIRE(config.has_value());
  CHECK(config->key_type == "P-256");
  CHECK(config->root_common_name == "Acme Devices Root CA");
  CHECK(config->DatabasePath() == "/var/lib/imprint-ca/imprint-ca.db");
  const auto& device = config->profiles.at("device");
  CHECK_FALSE(device.lifetime.has_value());  // 99991231235959Z
  CHECK(device.extended_key_usage == std::vector<std::string>{"clientAuth"});
  CHECK(config->profiles.contains("station"));
}

TEST_CASE("a second device profile is configuration, not code", "[config]") {
  TempDir dir;
  auto config = LoadText(dir, std::string(kMinimal) + R"(
[profiles.device-5y]
key_usage = ["digitalSignature", "keyAgreement"]
extended_key_usage = ["clientAuth", "serverAuth"]
validity_days = 1826
)");
  REQUIRE(config.has_value());
  const auto& p = config->profiles.at("device-5y");
  CHECK(p.lifetime == std::chrono::days(1826));
  CHECK(p.key_usage.size() == 2);
  CHECK(p.extended_key_usage.size() == 2);
}

TEST_CASE("[status] URLs go into device profiles only, and bad values are refused", "[config]") {
  TempDir dir;
  auto config = LoadText(dir, std::string(kMinimal) + R"(
[status]
http_listen = "0.0.0.0:8080"
crl_url = "http://pki.example/crl/issuing.crl"
ocsp_url = "http://pki.example/ocsp"
[profiles.device-5y]
validity_days = 1826
)");
  REQUIRE(config.has_value());
  CHECK(config->crl_validity_hours == 168);
  CHECK(config->profiles.at("device").crl_url == "http://pki.example/crl/issuing.crl");
  CHECK(config->profiles.at("device-5y").ocsp_url == "http://pki.example/ocsp");
  CHECK(config->profiles.at("station").crl_url.empty());
  CHECK(config->profiles.at("tls-server").ocsp_url.empty());
  // The offline and root CRLs beside the issuing CA's, unless named.
  CHECK(config->offline_crl_url == "http://pki.example/crl/offline.crl");
  CHECK(config->root_crl_url == "http://pki.example/crl/root.crl");
  auto named = LoadText(dir, std::string(kMinimal) + R"(
[status]
crl_url = "http://pki.example"
root_crl_url = "http://cdn.example/root.crl"
)");
  REQUIRE(named.has_value());
  CHECK(named->offline_crl_url == "http://pki.example/offline.crl");
  CHECK(named->root_crl_url == "http://cdn.example/root.crl");
  auto none = LoadText(dir, std::string(kMinimal));
  REQUIRE(none.has_value());
  CHECK(none->offline_crl_url.empty());
  for (const auto& [line, key] : std::vector<std::pair<std::string, std::string>>{
           {"crl_url = \"https://pki.example/crl\"", "status.crl_url: must be an http:// URL"},
           {"ocsp_url = \"http://a b\"", "status.ocsp_url: is not a URL"},
           {"offline_crl_url = \"ftp://x/offline.crl\"", "status.offline_crl_url: must be an"},
           {"crl_validity_hours = 0", "status.crl_validity_hours"},
           {"ocsp_validity_minutes = 20000", "status.ocsp_validity_minutes"},
           {"http_port = 80", "status.http_port: unknown key"}}) {
    auto bad = LoadText(dir, std::string(kMinimal) + "[status]\n" + line + "\n");
    INFO(line);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message().find(key) != std::string::npos);
  }
}

TEST_CASE("key attestation: TPM roots and a profile that requires it", "[config]") {
  TempDir dir;
  auto config = LoadText(dir, std::string(kMinimal) +
                                  "[attestation]\ntpm_roots = \"/etc/imprint/tpm-roots\"\n"
                                  "[profiles.device]\nattestation = \"tpm\"\n"
                                  "[profiles.ldevid]\nattestation = \"none\"\n");
  REQUIRE(config.has_value());
  CHECK(config->tpm_roots == "/etc/imprint/tpm-roots");
  CHECK(config->tpm_attested_profiles == std::set<std::string>{"device"});

  auto no_roots =
      LoadText(dir, std::string(kMinimal) + "[profiles.device]\nattestation = \"tpm\"\n");
  REQUIRE_FALSE(no_roots.has_value());
  CHECK(no_roots.error().message().find("attestation.tpm_roots") != std::string::npos);
  auto bad = LoadText(dir, std::string(kMinimal) + "[profiles.device]\nattestation = \"sgx\"\n");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message().find("profiles.device.attestation") != std::string::npos);
  auto unknown = LoadText(dir, std::string(kMinimal) + "[attestation]\nroots = \"/x\"\n");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message().find("attestation.roots") != std::string::npos);
}

TEST_CASE("a pin-source in the token URI stands in for pin_file", "[config]") {
  TempDir dir;
  std::string text = kMinimal;
  const std::string env_line = "pin_env = \"IMPRINT_CA_PIN\"\n";
  text.erase(text.find(env_line), env_line.size());
  const std::string uri = "pkcs11:token=imprint-ca";
  text.replace(text.find(uri), uri.size(), uri + "?pin-source=file:/etc/imprint/ca.pin");
  auto config = LoadText(dir, text);
  REQUIRE(config.has_value());
  CHECK(config->pin_file == "/etc/imprint/ca.pin");
}

TEST_CASE("bad configs are refused naming the key", "[config]") {
  TempDir dir;
  auto expect_bad = [&](const std::string& text, const std::string& key) {
    auto config = LoadText(dir, text);
    REQUIRE_FALSE(config.has_value());
    CHECK(config.error().code() == Code::kInvalidArgument);
    CHECK(config.error().message().find(key) != std::string::npos);
  };
  expect_bad("[hsm\nmodule=1", "line");
  expect_bad(std::string(kMinimal) + "[audit]\ncheckpoint_every = \"x\"\n",
             "audit.checkpoint_every");
  std::string no_org = kMinimal;
  no_org.replace(no_org.find("organization"), 12, "organisation");
  expect_bad(no_org, "ca.organisation: unknown key");  // a misspelling is not a default
  no_org.replace(no_org.find("organisation"), 12, "# organization");
  expect_bad(no_org, "ca.organization");
  // Unknown keys anywhere, and integers that are not integers or do not fit, name the key.
  std::string typo = kMinimal;
  typo.insert(typo.find("[ca]"), "sesions = 4\n");
  expect_bad(typo, "hsm.sesions: unknown key");
  expect_bad(std::string(kMinimal) + "[adit]\ncheckpoint_every = 5\n", "adit: unknown key");
  expect_bad(std::string(kMinimal) + "[profiles.device]\nvalidity_day = 5\n",
             "profiles.device.validity_day: unknown key");
  expect_bad(std::string(kMinimal) + "[profiles.device]\nvalidity_days = \"10\"\n",
             "profiles.device.validity_days: must be an integer");
  std::string wide = kMinimal;
  wide.insert(wide.find("[ca]"), "sessions = 4294967300\n");  // 4 once narrowed to 32 bits
  expect_bad(wide, "hsm.sessions: must be an integer from 0 to 2147483647");
  expect_bad(std::string(kMinimal) + "threads = 5000\n", "server.threads");
  expect_bad(std::string(kMinimal) + "[audit]\ncheckpoint_every = 1.5\n", "audit.checkpoint_every");
  expect_bad(std::string(kMinimal) + "[audit]\ncheckpoint_every = 0\n", "audit.checkpoint_every");
  expect_bad(std::string(kMinimal) + "[hsm]\n", "line");  // duplicate table
  std::string both = kMinimal;
  both.insert(both.find("[ca]"), "pin_file = \"/x\"\n");
  expect_bad(both, "pin_file");
  std::string weak = kMinimal;
  weak.insert(weak.find("[server]"), "password_length = 8\n");
  expect_bad(weak, "ca.password_length");
  std::string rsa = kMinimal;
  rsa.insert(rsa.find("[server]"), "key_type = \"RSA-1024\"\n");
  expect_bad(rsa, "ca.key_type");
  CHECK(CaConfig::Load((dir / "missing.toml").string()).error().code() == Code::kNotFound);
}

}  // namespace
}  // namespace imprint::ca

namespace imprint::ca {
namespace {

TEST_CASE("a PostgreSQL store is configured without a password in sight", "[config]") {
  TempDir dir;
  auto sqlite = LoadText(dir, kMinimal);
  REQUIRE(sqlite.has_value());
  CHECK(sqlite->store_backend == "sqlite");

  auto pg = LoadText(dir, std::string(kMinimal) +
                              "[store]\nbackend = \"postgres\"\n"
                              "conninfo = \"host=/run/postgresql dbname=imprint user=imprint\"\n"
                              "password_file = \"" +
                              (dir / "db.pass").string() + "\"\n");
  REQUIRE(pg.has_value());
  CHECK(pg->store_backend == "postgres");
  // The password file is mode-checked like the PIN file, and read only when connecting.
  WriteFile(dir / "db.pass", "s3cret\n", 0644);
  auto loose = pg->ReadStorePassword();
  REQUIRE_FALSE(loose.has_value());
  CHECK(loose.error().code() == Code::kPermissionDenied);
  WriteFile(dir / "db.pass", "s3cret\n", 0600);
  auto password = pg->ReadStorePassword();
  REQUIRE(password.has_value());
  CHECK(password->Reveal() == "s3cret");

  struct Bad {
    std::string store;
    std::string names;
  };
  const Bad bad[] = {
      {"backend = \"mysql\"", "store.backend"},
      {"backend = \"postgres\"", "store.conninfo: is required"},
      {"backend = \"postgres\"\nconninfo = \"host=/tmp password=hunter2\"", "store.password_file"},
      {"backend = \"postgres\"\nconninfo = \"postgresql://u:hunter2@h/db\"", "holds a password"},
      {"backend = \"postgres\"\nconninfo = \"host='unterminated\"", "store.conninfo"},
      {"conninfo = \"host=/tmp\"", "only for backend"},
      {"backend = \"postgres\"\nconninfo = \"dbname=x\"\nport = 5432", "store.port: unknown key"},
  };
  for (const auto& b : bad) {
    auto config = LoadText(dir, std::string(kMinimal) + "[store]\n" + b.store + "\n");
    INFO(b.store);
    REQUIRE_FALSE(config.has_value());
    CHECK(config.error().code() == Code::kInvalidArgument);
    CHECK(config.error().message().find(b.names) != std::string::npos);
    CHECK(config.error().message().find("hunter2") == std::string::npos);  // never repeated
  }
}

TEST_CASE("identifiers are 1-64 safe characters and never name a directory entry", "[ca]") {
  CHECK(IsValidIdentifier("PO-2026.11_a:b"));
  CHECK(IsValidIdentifier("..."));
  CHECK(IsValidIdentifier(std::string(64, 'a')));
  CHECK_FALSE(IsValidIdentifier("."));
  CHECK_FALSE(IsValidIdentifier(".."));
  CHECK_FALSE(IsValidIdentifier(""));
  CHECK_FALSE(IsValidIdentifier(std::string(65, 'a')));
  CHECK_FALSE(IsValidIdentifier("a/b"));
  CHECK_FALSE(IsValidIdentifier("dev\x1b[2J"));
}

}  // namespace
}  // namespace imprint::ca
