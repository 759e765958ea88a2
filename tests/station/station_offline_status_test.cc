// What relying parties learn of devices a station signed offline, from the real binaries
// (docs/offline.md, "CRL and OCSP for devices the CA did not sign"): OCSP through the station's
// delegate, the issuing CA's indirect CRL of revoked offline devices and the root's CRL of
// revoked subordinates, each judged by openssl.

#include <httplib.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <string>

#include "common/file_util.h"
#include "common/x509/encoding.h"
#include "tests/ca/ca_test_util.h"
#include "tests/station/offline_line.h"

namespace imprint::testing {
namespace {

TEST_CASE("after reconcile, the CA speaks OCSP for offline devices through the station's delegate",
          "[offline][ocsp]") {
  OfflineLine line(6, 2, WithOcsp());
  line.ca.Stop();
  std::string out;
  REQUIRE(line.Provision("--offline --devices-file " + line.devices.string(), &out) == 0);
  line.ca.Restart();
  REQUIRE(Reconcile(line, &out) == 0);
  CHECK(out.find("2 recorded now, 2 reconciled, OCSP delegated to the CA (all)") !=
        std::string::npos);
  CHECK(QueryInt(line.ca,
                 "SELECT count(*) FROM audit_log WHERE event = 'allowance.ocsp_delegated'") == 1);
  CHECK(QueryInt(line.ca, "SELECT count(*) FROM devices WHERE allowance_id = '" +
                              line.allowance_id + "'") == 2);
  // Kept once: the next reconcile is not asked again.
  REQUIRE(Reconcile(line, &out) == 0);
  CHECK(out.find("OCSP delegated") == std::string::npos);

  // openssl ocsp, about SIM-00001 under its subordinate, verified against the root alone.
  std::string subordinate = ReadWholeFile((line.Kept() / "subordinate.pem").string()).value();
  std::string end = "-----END CERTIFICATE-----\n";
  auto path = [&](const std::string& name) { return (line.ca.dir() / name).string(); };
  WriteFile(path("sub.pem"), subordinate.substr(0, subordinate.find(end) + end.size()), 0644);
  std::string device = path("agents/SIM-00001/certificate.pem");
  std::string url = "http://" + line.ca.server().revocation_address() + "/ocsp";
  // ABOUT: "-cert FILE", or "-serial 0x..." to ask of an issuer what it never signed.
  auto ocsp = [&](const std::string& issuer, const std::string& trusted,
                  const std::string& about = "") {
    std::string answer;
    int code = RunCommand("openssl ocsp -issuer " + issuer + " " +
                              (about.empty() ? "-cert " + device : about) + " -url " + url +
                              " -CAfile " + trusted + " 2>&1",
                          &answer);
    INFO(answer);
    CHECK(code == 0);
    return answer;
  };
  std::string good = ocsp(path("sub.pem"), line.root.string());
  CHECK(good.find("Response verify OK") != std::string::npos);
  CHECK(good.find(device + ": good") != std::string::npos);
  // The same serial asked of the issuing CA is none of its certificates.
  std::string chain = ReadWholeFile(line.ca.config().ChainPemPath()).value();
  WriteFile(path("issuing.pem"), chain.substr(0, chain.find(end) + end.size()), 0644);
  std::string serial =
      x509::SerialHex(x509::ParseCertificatePem(ReadWholeFile(device).value()).value().get())
          .value();
  CHECK(ocsp(path("issuing.pem"), line.ca.config().ChainPemPath(), "-serial 0x" + serial)
            .find("0x" + serial + ": unknown") != std::string::npos);

  // Revoked with the existing command: OCSP says so at once; the issuing CA's CRL does not
  // list a certificate it did not sign.
  REQUIRE(RunCaCli(line.ca, "revoke device --id SIM-00001 --reason key-compromise", &out) == 0);
  std::string revoked = ocsp(path("sub.pem"), line.root.string());
  CHECK(revoked.find("Response verify OK") != std::string::npos);
  CHECK(revoked.find(device + ": revoked") != std::string::npos);
  CHECK(revoked.find("Reason: keyCompromise") != std::string::npos);
  CHECK(ocsp(path("issuing.pem"), line.ca.config().ChainPemPath(), "-serial 0x" + serial)
            .find("0x" + serial + ": unknown") != std::string::npos);
  REQUIRE(RunCaCli(line.ca, "crl issue", &out) == 0);
  CHECK(out.find("with 0 entries") != std::string::npos);
  REQUIRE(RunCaCli(line.ca, "audit verify", &out) == 0);
}

// Device certificates name the offline CRL, the subordinate names the root's.
CaFixtureOptions WithCrl() {
  CaFixtureOptions options;
  options.status_toml =
      "http_listen = \"127.0.0.1:0\"\ncrl_url = \"http://pki.example/crl/issuing.crl\"\n";
  return options;
}

// How many entries `crl issue` says the CRL its line begins with (`list`, then a number) holds;
// -1 when no line does. (The numbers themselves depend on the serving CA's keeper too.)
int Entries(const std::string& out, const std::string& list) {
  size_t at = 0;
  while (at < out.size()) {
    size_t line_end = out.find('\n', at);
    std::string line = out.substr(at, line_end - at);
    at = line_end == std::string::npos ? out.size() : line_end + 1;
    if (!line.starts_with(list + " ") ||
        !std::isdigit(static_cast<unsigned char>(line[list.size() + 1])))
      continue;
    size_t with = line.find(" with ");
    if (with == std::string::npos) return -1;
    return std::stoi(line.substr(with + 6));
  }
  return -1;
}

// A line whose devices were provisioned with the CA stopped and then reconciled; `sub.pem` in
// the CA's directory holds the subordinate certificate alone.
struct ReconciledLine : OfflineLine {
  explicit ReconciledLine(int devices) : OfflineLine(6, devices, WithCrl()) {
    ca.Stop();
    std::string out;
    REQUIRE(Provision("--offline --devices-file " + this->devices.string(), &out) == 0);
    ca.Restart();
    REQUIRE(Reconcile(*this, &out) == 0);
    std::string subordinate = ReadWholeFile((Kept() / "subordinate.pem").string()).value();
    std::string end = "-----END CERTIFICATE-----\n";
    WriteFile(Path("sub.pem"), subordinate.substr(0, subordinate.find(end) + end.size()), 0644);
  }
  std::string Path(const std::string& name) const { return (ca.dir() / name).string(); }
  std::string Device(int n) const {
    return Path("agents/SIM-0000" + std::to_string(n) + "/certificate.pem");
  }
};

TEST_CASE(
    "offline devices' revocations are in the issuing CA's indirect CRL, a revoked "
    "allowance's subordinate in the root's, as openssl verify checks them",
    "[offline][crl]") {
  ReconciledLine line(3);
  std::string out;
  auto path = [&](const std::string& name) { return line.Path(name); };
  auto device = [&](int n) { return line.Device(n); };

  // Where to look, as the certificates say.
  REQUIRE(RunCommand("openssl x509 -noout -text -in " + device(1) + " 2>&1", &out) == 0);
  CHECK(out.find("URI:http://pki.example/crl/offline.crl") != std::string::npos);
  CHECK(out.find("CRL Issuer:") != std::string::npos);
  std::string end = "-----END CERTIFICATE-----\n";
  REQUIRE(RunCommand("openssl x509 -noout -text -in " + path("sub.pem") + " 2>&1", &out) == 0);
  CHECK(out.find("URI:http://pki.example/crl/root.crl") != std::string::npos);
  std::string chain = ReadWholeFile(line.ca.config().ChainPemPath()).value();
  // Not trusted: the issuing CA (the offline CRL's signer) and the subordinate.
  WriteFile(path("untrusted.pem"),
            chain.substr(0, chain.find(end) + end.size()) + ReadWholeFile(path("sub.pem")).value(),
            0644);

  // Served over HTTP from the start.
  httplib::Client client("http://" + line.ca.server().revocation_address());
  for (const char* list : {"offline", "root", "issuing"}) {
    auto got = client.Get(std::string("/crl/") + list + ".crl");
    REQUIRE(got);
    CHECK(got->status == 200);
    CHECK(got->get_header_value("Content-Type") == "application/pkix-crl");
    WriteFile(path(std::string("served-") + list + ".crl"), got->body, 0644);
    CHECK(RunCommand("openssl crl -inform DER -noout -in " +
                         path(std::string("served-") + list + ".crl") + " 2>&1",
                     &out) == 0);
  }

  std::string crl_dir = (line.ca.config().state_dir + "/crl/");
  auto verify = [&](const std::string& flags, int n) {
    std::string answer;
    int code =
        RunCommand("openssl verify " + flags + " -extended_crl -CAfile " + line.root.string() +
                       " -untrusted " + path("untrusted.pem") + " -CRLfile " + crl_dir +
                       "issuing.crl.pem -CRLfile " + crl_dir + "offline.crl.pem -CRLfile " +
                       crl_dir + "root.crl.pem " + device(n) + " 2>&1",
                   &answer);
    return code == 0 ? std::string("OK") : answer;
  };
  REQUIRE(RunCaCli(line.ca, "crl issue", &out) == 0);
  CHECK(verify("-crl_check", 1) == "OK");
  CHECK(verify("-crl_check_all", 1) == "OK");

  // One device revoked with the existing command: in the offline CRL, not the issuing CA's.
  REQUIRE(RunCaCli(line.ca, "revoke device --id SIM-00001 --reason key-compromise", &out) == 0);
  REQUIRE(RunCaCli(line.ca, "crl issue", &out) == 0);
  INFO(out);
  CHECK(Entries(out, "CRL") == 0);
  CHECK(Entries(out, "offline CRL") == 1);
  CHECK(Entries(out, "root CRL") == 0);
  CHECK(verify("-crl_check", 1).find("certificate revoked") != std::string::npos);
  CHECK(verify("-crl_check", 2) == "OK");

  // Rework of an offline device: its former certificate is revoked as superseded, in the
  // offline CRL and under its subordinate in OCSP (it kept its allowance in device history).
  REQUIRE(RunCaCli(line.ca, "device rework --id SIM-00002", &out) == 0);
  REQUIRE(RunCaCli(line.ca, "crl issue", &out) == 0);
  CHECK(Entries(out, "offline CRL") == 2);
  CHECK(verify("-crl_check", 2).find("certificate revoked") != std::string::npos);
  std::string answer;
  REQUIRE(RunCommand("openssl ocsp -issuer " + path("sub.pem") + " -cert " + device(2) +
                         " -url http://" + line.ca.server().revocation_address() +
                         "/ocsp -CAfile " + line.root.string() + " 2>&1",
                     &answer) == 0);
  CHECK(answer.find(device(2) + ": revoked") != std::string::npos);
  CHECK(answer.find("Reason: superseded") != std::string::npos);

  // The allowance revoked: its subordinate is in the root's CRL, and every device under it
  // fails a check of the whole chain.
  CHECK(verify("-crl_check_all", 3) == "OK");
  REQUIRE(RunCommand(CaBinary() + " allowance revoke --order PO-1 --station cm-line-3 --reason " +
                         "'station sold' --config " + path("ca.toml") + " 2>&1",
                     &out) == 0);
  REQUIRE(RunCaCli(line.ca, "crl issue", &out) == 0);
  CHECK(Entries(out, "root CRL") == 1);
  CHECK(verify("-crl_check", 3) == "OK");  // the device itself is not revoked
  std::string whole = verify("-crl_check_all", 3);
  CHECK(whole.find("certificate revoked") != std::string::npos);
  INFO(whole);
  CHECK(whole.find("at 1 depth") != std::string::npos);  // the subordinate
  CHECK(QueryInt(line.ca,
                 "SELECT count(*) FROM audit_log WHERE event = 'crl.issued' AND "
                 "detail LIKE '%\"list\":\"offline\"%'") >= 4);
  REQUIRE(RunCaCli(line.ca, "audit verify", &out) == 0);
}

TEST_CASE(
    "a renewed subordinate keeps offline devices verifying past the allowance's window, "
    "and is revoked with it",
    "[offline][ocsp]") {
  ReconciledLine line(2);
  std::string out;
  auto path = [&](const std::string& name) { return line.Path(name); };
  std::string device = line.Device(1);
  // 40 days on: past any allowance's window (31 days at most).
  std::string later = std::to_string(std::time(nullptr) + 40 * 24 * 3600);
  auto verify = [&](const std::string& chain) {
    std::string answer;
    int code = RunCommand("openssl verify -x509_strict -attime " + later + " -CAfile " +
                              line.root.string() + " -untrusted " + chain + " " + device + " 2>&1",
                          &answer);
    return code == 0 ? std::string("OK") : answer;
  };
  CHECK(verify(path("sub.pem")).find("certificate has expired") != std::string::npos);
  auto renew = [&](const std::string& station) {
    return RunCommand(CaBinary() + " allowance renew --order PO-1 --station " + station +
                          " --config " + path("ca.toml") + " 2>&1",
                      &out);
  };
  CHECK(renew("nobody") != 0);
  CHECK(out.find("no allowance of order PO-1 was fetched by station nobody") != std::string::npos);
  REQUIRE(renew("cm-line-3") == 0);
  CHECK(out.find("subordinate renewed, serial ") != std::string::npos);
  std::string renewed =
      line.ca.config().state_dir + "/allowances/" + line.allowance_id + "-subordinate.pem";
  CHECK(verify(renewed) == "OK");
  // Holding both, as a device's old chain and the published one: OpenSSL takes the valid one.
  WriteFile(path("both.pem"),
            ReadWholeFile(path("sub.pem")).value() + ReadWholeFile(renewed).value(), 0644);
  CHECK(verify(path("both.pem")) == "OK");
  auto old_cert = x509::ParseCertificatePem(ReadWholeFile(path("sub.pem")).value()).value();
  auto renewed_chain = x509::ParseCertificatesPem(ReadWholeFile(renewed).value()).value();
  REQUIRE(renewed_chain.size() == 2);  // the renewed subordinate, then the root
  x509::X509Ptr new_cert = std::move(renewed_chain.front());
  CHECK(X509_NAME_cmp(X509_get_subject_name(old_cert.get()),
                      X509_get_subject_name(new_cert.get())) == 0);
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(old_cert.get()), X509_get0_pubkey(new_cert.get())) == 1);
  REQUIRE(RunCommand("openssl x509 -noout -enddate -in " + renewed + " 2>&1", &out) == 0);
  CHECK(out.find("9999") != std::string::npos);
  // Again: the same certificate, audited once.
  std::string serial = x509::SerialHex(new_cert.get()).value();
  REQUIRE(renew("cm-line-3") == 0);
  CHECK(out.find("already renewed, serial " + serial) != std::string::npos);
  CHECK(QueryInt(line.ca, "SELECT count(*) FROM audit_log WHERE event = 'allowance.renewed'") == 1);

  // The root's responder answers for it; revoking the allowance revokes both certificates.
  auto root_status = [&] {
    std::string answer;
    RunCommand("openssl ocsp -issuer " + line.root.string() + " -cert " + renewed +
                   " -url http://" + line.ca.server().revocation_address() + "/ocsp -CAfile " +
                   line.root.string() + " 2>&1",
               &answer);
    return answer;
  };
  CHECK(root_status().find(renewed + ": good") != std::string::npos);
  REQUIRE(RunCommand(CaBinary() + " allowance revoke --order PO-1 --station cm-line-3 --reason " +
                         "'station sold' --config " + path("ca.toml") + " 2>&1",
                     &out) == 0);
  CHECK(root_status().find(renewed + ": revoked") != std::string::npos);
  REQUIRE(RunCaCli(line.ca, "crl issue", &out) == 0);
  CHECK(Entries(out, "root CRL") == 2);
  CHECK(renew("cm-line-3") != 0);
  CHECK(out.find("was revoked: its subordinate is not renewed") != std::string::npos);
  REQUIRE(RunCaCli(line.ca, "audit verify", &out) == 0);
}

}  // namespace
}  // namespace imprint::testing
