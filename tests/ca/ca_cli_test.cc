// imprint-ca as an operator runs it: real processes, a SoftHSM token, stdout contracts.

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "tests/support/build_paths.h"
#include "tests/support/health.grpc.pb.h"
#include "tests/support/softhsm_token.h"

namespace imprint::testing {
namespace {

const std::string kCa = CaBinary();

struct CliCa {
  CliCa(const std::string& key_type = "P-256") : token("imprint-ca", false) {
    std::ostringstream toml;
    toml << "[hsm]\nmodule = \"" << kSoftHsmModule
         << "\"\ntoken_uri = \"pkcs11:token=imprint-ca\"\n"
         << "pin_file = \"" << token.pin_file().string() << "\"\n[ca]\nstate_dir = \""
         << (token.dir() / "state").string() << "\"\norganization = \"Acme Devices\"\n"
         << "key_type = \"" << key_type << "\"\n[server]\nlisten = \"127.0.0.1:0\"\n";
    WriteFile(token.dir() / "ca.toml", toml.str(), 0644);
    config = (token.dir() / "ca.toml").string();
  }
  int Run(const std::string& args, std::string* out = nullptr) const {
    return RunCommand(kCa + " " + args + " --config " + config, out);
  }
  SoftHsmToken token;
  std::string config;
};

// Starts `imprint-ca serve`, returns its pid and the address from its first stdout line.
pid_t StartServer(const CliCa& ca, std::string* address) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::execl(kCa.c_str(), kCa.c_str(), "serve", "--config", ca.config.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(fds[1]);
  FILE* out = ::fdopen(fds[0], "r");
  char line[256] = {};
  REQUIRE(std::fgets(line, sizeof(line), out) != nullptr);
  std::fclose(out);
  std::string text(line);
  REQUIRE(text.rfind("listening on ", 0) == 0);
  *address = text.substr(13, text.find('\n') - 13);
  return pid;
}

TEST_CASE("init creates the hierarchy once and refuses to run again", "[ca-cli]") {
  CliCa ca;
  std::string out;
  REQUIRE(ca.Run("init", &out) == 0);
  CHECK(ca.Run("init", &out) == 1);
  CHECK(out.find("FAILED_PRECONDITION: refusing to initialise over existing state") !=
        std::string::npos);
  auto state = ca.token.dir() / "state";
  CHECK(RunCommand("openssl verify -x509_strict -CAfile " + (state / "root.pem").string() + " " +
                   (state / "chain.pem").string()) == 0);
  CHECK(RunCommand("openssl verify -x509_strict -CAfile " + (state / "root.pem").string() +
                   " -untrusted " + (state / "chain.pem").string() + " " +
                   (state / "tls-cert.pem").string()) == 0);
  struct stat st {};
  REQUIRE(::stat((state / "tls-key.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("read commands never create or migrate state, so init still works after them",
          "[ca-cli]") {
  CliCa ca;
  auto state = ca.token.dir() / "state";
  std::string out;
  for (const char* command : {"order show --id PO-1", "audit verify", "audit export"}) {
    CHECK(ca.Run(command, &out) == 1);
    CHECK(out.find("CA not initialised") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(state / "imprint-ca.db"));
  }
  REQUIRE(ca.Run("init", &out) == 0);
}

TEST_CASE("station add prints only the token on stdout", "[ca-cli]") {
  CliCa ca;
  REQUIRE(ca.Run("init") == 0);
  std::string out;
  REQUIRE(RunCommand(kCa + " station add --config " + ca.config + " line-1 2>/dev/null", &out) ==
          0);
  CHECK(out.size() == 65);  // 64 hex characters and a newline
  CHECK(out.find_first_not_of("0123456789abcdef\n") == std::string::npos);
  CHECK(ca.Run("station add line-1", &out) == 1);
  CHECK(out.find("ALREADY_EXISTS") != std::string::npos);
  CHECK(ca.Run("station add 'bad name'", &out) == 1);
  CHECK(ca.Run("order create --id PO-1 --product cam --quota 5 --station nobody", &out) == 1);
  CHECK(out.find("unknown station nobody") != std::string::npos);
  REQUIRE(ca.Run("order create --id PO-1 --product cam --quota 5 --station line-1") == 0);
  REQUIRE(ca.Run("order show --id PO-1", &out) == 0);
  CHECK(out.find("quota 5\nissued 0\nverified 0") != std::string::npos);
}

TEST_CASE("a wrong PIN or a missing token stops the CA with a clear message", "[ca-cli]") {
  CliCa ca;
  REQUIRE(ca.Run("init") == 0);
  std::string out;
  WriteFile(ca.token.pin_file(), "not-the-pin\n", 0600);
  CHECK(ca.Run("serve", &out) == 1);
  CHECK(out.find("C_Login: CKR_PIN_INCORRECT") != std::string::npos);
  CHECK(out.find("not-the-pin") == std::string::npos);
  WriteFile(ca.token.pin_file(), ca.token.user_pin() + "\n", 0644);
  CHECK(ca.Run("serve", &out) == 1);
  CHECK(out.find("PERMISSION_DENIED") != std::string::npos);
  std::string toml = ReadFile(ca.config);
  toml.replace(toml.find("token=imprint-ca"), 16, "token=other-token");
  WriteFile(ca.config, toml, 0644);
  CHECK(ca.Run("serve", &out) == 1);
  CHECK(out.find("no initialised token matches") != std::string::npos);
}

TEST_CASE("serve announces its address, answers health checks and stops on SIGTERM", "[ca-cli]") {
  CliCa ca;
  REQUIRE(ca.Run("init") == 0);
  std::string address;
  pid_t pid = StartServer(ca, &address);
  CHECK(address.rfind("127.0.0.1:", 0) == 0);
  // It holds the PIN: no core file, soft or hard limit. (PR_SET_DUMPABLE is set too, but a
  // test running as root cannot observe it.)
  std::string core_limits;
  CHECK(RunCommand(
            "awk '/^Max core file size/ {print $5, $6}' /proc/" + std::to_string(pid) + "/limits",
            &core_limits) == 0);
  CHECK(core_limits == "0 0\n");

  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFile(ca.token.dir() / "state" / "root.pem");
  auto health =
      grpc::health::v1::Health::NewStub(grpc::CreateChannel(address, grpc::SslCredentials(tls)));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckResponse response;
  REQUIRE(health->Check(&context, {}, &response).ok());
  CHECK(response.status() == grpc::health::v1::HealthCheckResponse::SERVING);

  std::string out;
  RunCommand("openssl s_client -connect " + address + " -tls1_2 </dev/null", &out);
  CHECK(out.find("New, TLSv1.2, Cipher is ECDHE-") != std::string::npos);  // forward secrecy
  // The client is told to accept anything old; the server must still refuse TLS 1.1.
  RunCommand("openssl s_client -connect " + address +
                 " -tls1_1 -cipher DEFAULT@SECLEVEL=0 "
                 "</dev/null",
             &out);
  CHECK(out.find("Cipher is (NONE)") != std::string::npos);
  CHECK(out.find("New, TLSv1.1") == std::string::npos);

  ::kill(pid, SIGTERM);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  REQUIRE(ca.Run("audit verify", &out) == 0);
}

TEST_CASE("an RSA-3072 CA hierarchy verifies with openssl and certtool", "[ca-cli]") {
  CliCa ca("RSA-3072");
  REQUIRE(ca.Run("init") == 0);
  auto state = ca.token.dir() / "state";
  std::string out;
  CHECK(RunCommand("openssl x509 -noout -text -in " + (state / "root.pem").string(), &out) == 0);
  CHECK(out.find("Public-Key: (3072 bit)") != std::string::npos);
  CHECK(out.find("sha256WithRSAEncryption") != std::string::npos);
  CHECK(RunCommand("certtool --verify --load-ca-certificate " + (state / "root.pem").string() +
                       " --infile " + (state / "tls-cert.pem").string(),
                   &out) == 0);
}

TEST_CASE("an external root signs the issuing CA offline and import-chain installs it",
          "[ca-cli]") {
  CliCa ca;
  std::string out;
  REQUIRE(ca.Run("init --external-root", &out) == 0);
  auto dir = ca.token.dir().path();
  auto state = dir / "state";
  REQUIRE(std::filesystem::exists(state / "issuing.csr"));
  // The "offline root": plain openssl with a key in a file, as an operator might.
  WriteFile(dir / "ext.cnf",
            "[v3_ca]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,"
            "cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n");
  std::string d = dir.string();
  REQUIRE(RunCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                     "-keyout " +
                         d + "/root.key -out " + d +
                         "/root.pem -subj '/CN=Offline Root' "
                         "-days 3650 -addext basicConstraints=critical,CA:TRUE "
                         "-addext keyUsage=critical,keyCertSign,cRLSign",
                     &out) == 0);
  REQUIRE(RunCommand("openssl x509 -req -in " + (state / "issuing.csr").string() + " -CA " + d +
                         "/root.pem -CAkey " + d +
                         "/root.key -CAcreateserial -days 3650 -extfile " + d +
                         "/ext.cnf -extensions v3_ca -out " + d + "/issuing.pem",
                     &out) == 0);
  CHECK(ca.Run("import-chain --cert " + d + "/root.pem --root " + d + "/root.pem", &out) == 1);
  CHECK(out.find("not for this CA's issuing key") != std::string::npos);
  REQUIRE(ca.Run("import-chain --cert " + d + "/issuing.pem --root " + d + "/root.pem", &out) == 0);
  CHECK(RunCommand("openssl verify -x509_strict -CAfile " + d + "/root.pem -untrusted " +
                       (state / "chain.pem").string() + " " + (state / "tls-cert.pem").string(),
                   &out) == 0);
  REQUIRE(ca.Run("audit verify", &out) == 0);
}

}  // namespace
}  // namespace imprint::testing
