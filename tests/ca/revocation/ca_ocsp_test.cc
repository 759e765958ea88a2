// The serving CA's HTTP status listener: OCSP answers (good, revoked with its reason, unknown)
// signed by the delegated responder key in the HSM and judged by `openssl ocsp` and
// python3-cryptography, revocations answered at once, GET and POST, hostile requests, the CRL
// over HTTP, and the CRL and OCSP URLs in device certificates. On both stores.

#include <httplib.h>
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <thread>

#include "ca/revocation/crl_publisher.h"
#include "common/x509/encoding.h"
#include "tests/ca/ca_test_util.h"
#include "tests/support/ca_fixture.h"
#include "tests/support/raw_socket.h"

namespace imprint::testing {
namespace {

CaFixtureOptions WithStatus(const std::string& extra = "") {
  CaFixtureOptions options;
  options.status_toml =
      "http_listen = \"127.0.0.1:0\"\n"
      "crl_url = \"http://pki.example/crl/issuing.crl\"\n"
      "ocsp_url = \"http://pki.example/ocsp\"\n" +
      extra;
  return options;
}

struct StatusLine {
  explicit StatusLine(const std::string& extra_status = "") : ca(WithStatus(extra_status)) {
    Init();
  }
  CaFixture ca;
  StationClient station = StationClient::Enroll(ca, "line-1");

  void Init() {
    ca.CreateOrder("PO-1", 100, {"line-1"});
    // The issuing CA alone, for -issuer.
    std::string chain = ReadFile(ca.config().ChainPemPath());
    std::string end = "-----END CERTIFICATE-----\n";
    WriteFile(ca.dir() / "issuing.pem", chain.substr(0, chain.find(end) + end.size()));
  }

  std::string Path(const std::string& name) const { return (ca.dir() / name).string(); }
  std::string Url() { return "http://" + ca.server().revocation_address(); }

  // Issues `device` and writes its certificate to DEVICE.pem.
  void Issue(const std::string& device) {
    auto call = CallIssue(station.stub(), "PO-1", device, DeviceKey::Make().csr_der);
    REQUIRE(call.status.ok());
    const std::string& der = call.response.certificate_der();
    WriteFile(ca.dir() / (device + ".pem"),
              x509::CertificateDerToPem(Bytes(der.begin(), der.end())).value());
  }

  // `openssl ocsp` about CERT_ARGS (e.g. "-cert dev.pem"), verifying the response against the
  // CA's chain; returns its exit code with its output in `out`.
  int Ocsp(const std::string& cert_args, std::string* out) {
    return RunCommand("openssl ocsp -issuer " + Path("issuing.pem") + " " + cert_args + " -url " +
                          Url() + "/ocsp -CAfile " + ca.config().ChainPemPath() + " 2>&1",
                      out);
  }

  int Cli(const std::string& args, std::string* out) const { return RunCaCli(ca, args, out); }
};

TEST_CASE("OCSP answers good, revoked with its reason, and unknown, verified by openssl",
          "[ocsp]") {
  StatusLine line;
  line.Issue("d1");
  line.Issue("d2");
  std::string out;
  REQUIRE(line.Ocsp("-cert " + line.Path("d1.pem"), &out) == 0);
  CHECK(out.find("Response verify OK") != std::string::npos);
  CHECK(out.find(line.Path("d1.pem") + ": good") != std::string::npos);
  CHECK(out.find("WARNING") == std::string::npos);  // the nonce came back

  // Without a nonce (RFC 5019) the signed answer is cached; asked twice, it is the same.
  REQUIRE(line.Ocsp("-no_nonce -cert " + line.Path("d1.pem"), &out) == 0);
  CHECK(out.find(line.Path("d1.pem") + ": good") != std::string::npos);
  REQUIRE(line.Ocsp("-no_nonce -cert " + line.Path("d1.pem"), &out) == 0);
  CHECK(out.find(line.Path("d1.pem") + ": good") != std::string::npos);

  // Revoked by the operator: answered at once, cached or not, no CRL cycle in between.
  REQUIRE(line.Cli("revoke device --id d1 --reason key-compromise", &out) == 0);
  REQUIRE(line.Ocsp("-no_nonce -cert " + line.Path("d1.pem"), &out) == 0);
  CHECK(out.find(line.Path("d1.pem") + ": revoked") != std::string::npos);
  REQUIRE(line.Ocsp("-cert " + line.Path("d1.pem") + " -cert " + line.Path("d2.pem"), &out) == 0);
  CHECK(out.find("Response verify OK") != std::string::npos);
  CHECK(out.find(line.Path("d1.pem") + ": revoked") != std::string::npos);
  CHECK(out.find("Reason: keyCompromise") != std::string::npos);
  CHECK(out.find(line.Path("d2.pem") + ": good") != std::string::npos);

  // A serial this CA never issued.
  REQUIRE(line.Ocsp("-serial 0x0123456789abcdef", &out) == 0);
  CHECK(out.find(": unknown") != std::string::npos);
  // The negative of an issued serial is a serial never issued, whatever its octets.
  REQUIRE(RunCommand("openssl x509 -noout -serial -in " + line.Path("d2.pem"), &out) == 0);
  std::string d2_serial = out.substr(out.find('=') + 1, out.find_last_not_of("\n") - out.find('='));
  REQUIRE(line.Ocsp("-serial -0x" + d2_serial, &out) == 0);
  CHECK(out.find(": unknown") != std::string::npos);
  CHECK(out.find(": good") == std::string::npos);
  REQUIRE(line.Ocsp("-serial 0x" + d2_serial, &out) == 0);
  CHECK(out.find(": good") != std::string::npos);

  // The responder is delegated: its certificate says so, and its key is in the token.
  std::string responder = line.ca.config().state_dir + "/ocsp-responder.pem";
  REQUIRE(RunCommand("openssl x509 -in " + responder + " -noout -text 2>&1", &out) == 0);
  CHECK(out.find("OCSP Signing") != std::string::npos);
  CHECK(out.find("OCSP No Check") != std::string::npos);
}

TEST_CASE(
    "OCSP answers for a station's certificate as the CRL does: good while enrolled, "
    "revoked after station revoke",
    "[ocsp]") {
  StatusLine line;
  WriteFile(line.ca.dir() / "station.pem", line.station.cert_pem());
  std::string station = line.Path("station.pem");
  std::string out;
  REQUIRE(line.Ocsp("-no_nonce -cert " + station, &out) == 0);
  INFO(out);
  CHECK(out.find("Response verify OK") != std::string::npos);
  CHECK(out.find(station + ": good") != std::string::npos);

  REQUIRE(line.Cli("station revoke line-1", &out) == 0);
  REQUIRE(line.Ocsp("-cert " + station, &out) == 0);
  CHECK(out.find("Response verify OK") != std::string::npos);
  CHECK(out.find(station + ": revoked") != std::string::npos);
  REQUIRE(line.Ocsp("-no_nonce -cert " + station, &out) == 0);
  CHECK(out.find(station + ": revoked") != std::string::npos);
}

TEST_CASE("python3-cryptography reads every field of an OCSP response", "[ocsp]") {
  StatusLine line;
  line.Issue("d1");
  std::string out;
  REQUIRE(line.Cli("revoke device --id d1 --reason certificate-hold", &out) == 0);
  REQUIRE(RunCommand("openssl ocsp -issuer " + line.Path("issuing.pem") + " -cert " +
                         line.Path("d1.pem") + " -reqout " + line.Path("req.der") + " 2>&1",
                     &out) == 0);
  httplib::Client client(line.Url());
  std::string request = ReadFile(line.ca.dir() / "req.der");
  auto res = client.Post("/ocsp", request, "application/ocsp-request");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "application/ocsp-response");
  WriteFile(line.ca.dir() / "resp.der", res->body);
  std::string py = R"(
import sys
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
resp = ocsp.load_der_ocsp_response(open(sys.argv[1], 'rb').read())
assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
assert resp.certificate_status == ocsp.OCSPCertStatus.REVOKED
assert resp.revocation_reason == x509.ReasonFlags.certificate_hold
(responder,) = resp.certificates
responder.public_key().verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))
assert resp.responder_key_hash is not None
assert (resp.next_update - resp.this_update).total_seconds() == 3600
req = ocsp.load_der_ocsp_request(open(sys.argv[2], 'rb').read())
assert resp.serial_number == req.serial_number
nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
assert resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
print("OK")
)";
  WriteFile(line.ca.dir() / "check.py", py);
  int rc = RunCommand("/usr/bin/python3 " + line.Path("check.py") + " " + line.Path("resp.der") +
                          " " + line.Path("req.der") + " 2>&1",
                      &out);
  INFO(out);
  CHECK(rc == 0);

  // The same request by GET (RFC 6960 A.1), base64 in the path.
  std::string b64(4 * ((request.size() + 2) / 3), '\0');
  b64.resize(static_cast<size_t>(EVP_EncodeBlock(
      reinterpret_cast<unsigned char*>(b64.data()),
      reinterpret_cast<const unsigned char*>(request.data()), static_cast<int>(request.size()))));
  std::string escaped;
  for (char c : b64) escaped += c == '/' ? "%2F" : c == '+' ? "%2B" : std::string(1, c);
  auto got = client.Get("/ocsp/" + escaped);
  REQUIRE(got);
  CHECK(got->status == 200);
  WriteFile(line.ca.dir() / "resp-get.der", got->body);
  REQUIRE(RunCommand("openssl ocsp -respin " + line.Path("resp-get.der") + " -issuer " +
                         line.Path("issuing.pem") + " -cert " + line.Path("d1.pem") + " -CAfile " +
                         line.ca.config().ChainPemPath() + " -no_nonce 2>&1",
                     &out) == 0);
  CHECK(out.find(": revoked") != std::string::npos);
}

TEST_CASE("fresh OCSP signatures are budgeted: past it the cache or tryLater answers", "[ocsp]") {
  StatusLine line("ocsp_signs_per_second = 5\n");
  line.Issue("d1");
  line.Issue("d2");
  std::string out;
  auto request = [&](const std::string& args, const std::string& name) {
    REQUIRE(RunCommand("openssl ocsp -issuer " + line.Path("issuing.pem") + " " + args +
                           " -reqout " + line.Path(name) + " 2>&1",
                       &out) == 0);
    return ReadFile(line.ca.dir() / name);
  };
  std::string plain = request("-no_nonce -cert " + line.Path("d1.pem"), "plain.der");
  std::string nonce = request("-cert " + line.Path("d1.pem"), "nonce.der");
  std::string pair =
      request("-cert " + line.Path("d1.pem") + " -cert " + line.Path("d2.pem"), "pair.der");
  httplib::Client client(line.Url());
  auto post = [&](const std::string& der) {
    auto res = client.Post("/ocsp", der, "application/ocsp-request");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return res->body;
  };
  const std::string try_later("\x30\x03\x0a\x01\x03", 5);
  std::string cached = post(plain);  // signed once and cached
  REQUIRE(cached.size() > 100);

  auto start = std::chrono::steady_clock::now();
  int fresh = 0, from_cache = 0, later = 0;
  for (int i = 0; i < 40; ++i) {
    std::string answer = post(nonce);
    if (answer == cached) {
      ++from_cache;
    } else if (answer == try_later) {
      ++later;
    } else {
      ++fresh;
    }
  }
  std::string pair_answer = post(pair);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("fresh " << fresh << ", cached " << from_cache << ", in " << elapsed << " s");
  // The bucket held 4 after the first signature, and refills 5 a second.
  CHECK(fresh <= 5 + static_cast<int>(elapsed * 5));
  CHECK(fresh >= 4);
  CHECK(later == 0);  // one certificate with a cached answer: the cache answers
  CHECK(from_cache == 40 - fresh);
  if (elapsed < 0.15) CHECK(pair_answer == try_later);  // two certificates: nothing cached
  // The cached answer handed to a nonce'd request verifies (without the nonce).
  WriteFile(line.ca.dir() / "cached.der", cached);
  CHECK(RunCommand("openssl ocsp -respin " + line.Path("cached.der") + " -CAfile " +
                       line.ca.config().ChainPemPath() + " -issuer " + line.Path("issuing.pem") +
                       " -cert " + line.Path("d1.pem") + " 2>&1",
                   &out) == 0);
  CHECK(out.find(": good") != std::string::npos);
  // A second later the budget is back.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::string again = post(pair);
  CHECK(again != try_later);
  CHECK(again.size() > 100);
}

TEST_CASE("hostile OCSP requests get malformedRequest and nothing else", "[ocsp]") {
  StatusLine line;
  httplib::Client client(line.Url());
  const std::string malformed("\x30\x03\x0a\x01\x01", 5);
  for (const std::string& body : {std::string(), std::string("not DER at all"),
                                  std::string("\x30\x82\xff\xff", 4), std::string(1000, '\x30')}) {
    auto res = client.Post("/ocsp", body, "application/ocsp-request");
    REQUIRE(res);
    CHECK(res->body == malformed);
  }
  auto not_base64 = client.Get("/ocsp/%%%%");
  REQUIRE(not_base64);
  CHECK(not_base64->body == malformed);
  // A body announced past the limit is refused from the headers; none of it is sent.
  RawSocket huge(line.ca.server().revocation_address());
  REQUIRE(huge.Send("POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"));
  CHECK(HttpStatus(huge.ReadUntilClosed(std::chrono::seconds(5))) == 413);
  auto other = client.Get("/nothing-here");
  REQUIRE(other);
  CHECK(other->status == 404);
}

TEST_CASE("the CRL is served over HTTP and device certificates say where to look", "[ocsp]") {
  StatusLine line;
  line.Issue("d1");
  std::string out;
  httplib::Client client(line.Url());
  // The CA published its first CRL before it started serving: no wait.
  auto crl = client.Get("/crl/issuing.crl");
  REQUIRE(crl);
  CHECK(crl->status == 200);
  CHECK(crl->get_header_value("Content-Type") == "application/pkix-crl");
  WriteFile(line.ca.dir() / "fetched.crl", crl->body);
  CHECK(RunCommand("openssl crl -inform DER -in " + line.Path("fetched.crl") + " -noout -verify " +
                       "-CAfile " + line.ca.config().ChainPemPath() + " 2>&1",
                   &out) == 0);
  CHECK(out.find("verify OK") != std::string::npos);

  // Range is ignored (finding 5: 2000 parts of the whole CRL were built in memory): one part or
  // many, the answer is the CRL, once.
  std::string many = "bytes=0-";
  for (int i = 0; i < 2000; ++i) many += ",0-";
  for (const std::string& range : {std::string("bytes=0-9"), many}) {
    auto answer = client.Get("/crl/issuing.crl", {{"Range", range}});
    REQUIRE(answer);
    CHECK(answer->status == 200);
    CHECK(answer->body == crl->body);
  }

  REQUIRE(RunCommand("openssl x509 -in " + line.Path("d1.pem") + " -noout -text 2>&1", &out) == 0);
  CHECK(out.find("URI:http://pki.example/crl/issuing.crl") != std::string::npos);
  CHECK(out.find("OCSP - URI:http://pki.example/ocsp") != std::string::npos);
}

TEST_CASE("without [status] URLs device certificates carry no CRL or OCSP pointer", "[ocsp]") {
  CaFixture ca;
  auto station = StationClient::Enroll(ca, "line-1");
  ca.CreateOrder("PO-1", 10, {"line-1"});
  auto call = CallIssue(station.stub(), "PO-1", "d1", DeviceKey::Make().csr_der);
  REQUIRE(call.status.ok());
  const std::string& der = call.response.certificate_der();
  auto cert = x509::ParseCertificateDer(Bytes(der.begin(), der.end())).value();
  CHECK(X509_get_ext_by_NID(cert.get(), NID_crl_distribution_points, -1) < 0);
  CHECK(X509_get_ext_by_NID(cert.get(), NID_info_access, -1) < 0);
  CHECK(ca.server().revocation_address().empty());
}

}  // namespace
}  // namespace imprint::testing
