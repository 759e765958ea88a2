// Revocation by device, order and station window through the real imprint-ca binary, the CRL
// it signs in the HSM judged by openssl, certtool and python3-cryptography, rework of a
// returned device, and the serving CA publishing a new CRL by itself. On SQLite and, in the
// "[postgres]" copies, PostgreSQL.

#include <catch2/catch.hpp>
#include <thread>

#include "ca/admin.h"
#include "ca/audit/write_context.h"
#include "ca/revocation/crl_publisher.h"
#include "ca/store/store.h"
#include "common/utc_time.h"
#include "common/x509/encoding.h"
#include "tests/ca/ca_test_util.h"
#include "tests/support/ca_fixture.h"

namespace imprint::testing {
namespace {

struct Line {
  CaFixture ca;
  StationClient a = StationClient::Enroll(ca, "line-a");
  StationClient b = StationClient::Enroll(ca, "line-b");

  Line() {
    ca.CreateOrder("PO-1", 100, {"line-a", "line-b"});
    ca.CreateOrder("PO-2", 100, {"line-a"});
  }

  // Issues `device` on `order` from `station`; returns its certificate (DER).
  static Bytes Issue(StationClient& station, const std::string& order, const std::string& device,
                     const Bytes& csr = DeviceKey::Make().csr_der) {
    auto call = CallIssue(station.stub(), order, device, csr);
    REQUIRE(call.status.ok());
    const std::string& der = call.response.certificate_der();
    return Bytes(der.begin(), der.end());
  }

  int Cli(const std::string& args, std::string* out) const { return RunCaCli(ca, args, out); }

  int64_t Count(const std::string& query) const { return QueryInt(ca, query); }
  int64_t AuditHead() const { return Count("SELECT COALESCE(MAX(seq), 0) FROM audit_log"); }

  std::string Path(const std::string& name) const { return (ca.dir() / name).string(); }
  void WritePem(const std::string& name, const Bytes& der) const {
    WriteFile(ca.dir() / name, x509::CertificateDerToPem(der).value());
  }
  // openssl verify with CRL checking of the certificate in `name` against the CA's chain
  // (the root and the issuing CA, whose own revocation is not checked: -crl_check).
  int OpensslVerify(const std::string& name, std::string* out) const {
    return RunCommand("openssl verify -crl_check -CAfile " + ca.config().ChainPemPath() +
                          " -CRLfile " + ca::CrlPath(ca.config()) + ".pem " + Path(name) + " 2>&1",
                      out);
  }
};

std::string SerialOf(const Bytes& der) {
  auto cert = x509::ParseCertificateDer(der).value();
  return x509::SerialHex(cert.get()).value();
}

TEST_CASE("revoking by device, order and station window revokes exactly the selection",
          "[revocation]") {
  Line line;
  std::string out;
  // PO-1: d1..d3 from line-a, e1..e2 from line-b. PO-2: p1, p2 from line-a.
  Bytes d1 = Line::Issue(line.a, "PO-1", "d1");
  Bytes d2 = Line::Issue(line.a, "PO-1", "d2");
  Line::Issue(line.a, "PO-1", "d3");
  for (const char* d : {"e1", "e2"}) Line::Issue(line.b, "PO-1", d);
  Bytes p1 = Line::Issue(line.a, "PO-2", "p1");
  Line::Issue(line.a, "PO-2", "p2");

  int64_t head = line.AuditHead();
  REQUIRE(line.Cli("revoke order --id PO-2 --reason cessation-of-operation --dry-run", &out) == 0);
  CHECK(out.find("would revoke 2 certificates") != std::string::npos);
  CHECK(line.Count("SELECT COUNT(*) FROM revocations") == 0);
  CHECK(line.AuditHead() == head);  // a dry run changes nothing

  REQUIRE(line.Cli("revoke device --id d1 --reason key-compromise --invalidity-date "
                   "2026-11-24T13:30:00Z",
                   &out) == 0);
  CHECK(out.find("revoked 1 certificates") != std::string::npos);
  REQUIRE(line.Cli("revoke device --id d1 --reason key-compromise", &out) == 0);
  CHECK(out.find("nothing to revoke") != std::string::npos);  // idempotent
  REQUIRE(line.Cli("revoke order --id PO-2 --reason cessation-of-operation", &out) == 0);
  CHECK(out.find("revoked 2 certificates") != std::string::npos);

  // line-b's window covers e1 and e2 (issued above, within the last minutes), not line-a's.
  int64_t now = NowMs();
  std::string since = FormatUtcTime(now - 600'000), until = FormatUtcTime(now);
  REQUIRE(line.Cli("revoke station --name line-b --since " + since + " --until " + until +
                       " --reason key-compromise",
                   &out) == 0);
  CHECK(out.find("revoked 2 certificates") != std::string::npos);
  // A window before anything was issued selects nothing.
  REQUIRE(line.Cli("revoke station --name line-a --since 2020-01-01T00:00:00Z --until "
                   "2020-01-02T00:00:00Z --reason key-compromise --dry-run",
                   &out) == 0);
  CHECK(out.find("would revoke 0 certificates") != std::string::npos);

  // Exactly d1, p1, p2, e1, e2: checked against the registry.
  CHECK(line.Count("SELECT COUNT(*) FROM revocations") == 5);
  CHECK(line.Count("SELECT COUNT(*) FROM revocations r JOIN devices d ON d.serial_hex = "
                   "r.serial_hex WHERE d.device_id IN ('d1', 'p1', 'p2', 'e1', 'e2')") == 5);
  CHECK(line.Count("SELECT COUNT(*) FROM audit_log WHERE event = 'certificate.revoked'") == 3);
  CHECK(line.Count("SELECT COUNT(*) FROM audit_log WHERE event = 'certificate.revoked' AND "
                   "detail LIKE '%\"count\":2%' AND detail LIKE '%" +
                   SerialOf(p1) + "%'") == 1);
  REQUIRE(line.Cli("order show --id PO-2", &out) == 0);
  CHECK(out.find("revoked 2") != std::string::npos);
  REQUIRE(line.Cli("device show --id d1", &out) == 0);
  CHECK(out.find("revoked ") != std::string::npos);
  CHECK(out.find("key-compromise (invalid since 2026-11-24T13:30:00Z)") != std::string::npos);

  // The CRL: signed in the HSM, accepted by openssl, certtool and python3-cryptography.
  REQUIRE(line.Cli("crl issue", &out) == 0);
  CHECK(out.find("with 5 entries") != std::string::npos);
  {
    // The stored CRL read back (what a node that did not publish it, or a `crl issue` that lost
    // the race to one that did, reports) has the same count: it once said 0.
    auto db = ca::OpenCaDatabase(line.ca.config());
    REQUIRE(db.has_value());
    CHECK(ca::CurrentCrl(**db).value().entries == 5);
  }
  std::string crl = ca::CrlPath(line.ca.config());
  CHECK(RunCommand("openssl crl -in " + crl + ".pem -noout -verify -CAfile " +
                       line.ca.config().ChainPemPath() + " 2>&1",
                   &out) == 0);
  CHECK(out.find("verify OK") != std::string::npos);
  line.WritePem("d1.pem", d1);
  line.WritePem("d2.pem", d2);
  CHECK(line.OpensslVerify("d1.pem", &out) != 0);
  CHECK(out.find("certificate revoked") != std::string::npos);
  CHECK(line.OpensslVerify("d2.pem", &out) == 0);
  REQUIRE(RunCommand("certtool --crl-info --inder --infile " + crl + " 2>&1", &out) == 0);
  CHECK(out.find("Revoked certificates (5)") != std::string::npos);
  std::string py = R"(
import sys
from cryptography import x509
crl = x509.load_der_x509_crl(open(sys.argv[1], 'rb').read())
chain = open(sys.argv[2], 'rb').read()
issuing = x509.load_pem_x509_certificate(chain[:chain.index(b'-----END CERTIFICATE-----') + 25])
assert crl.is_signature_valid(issuing.public_key())
entry = crl.get_revoked_certificate_by_serial_number(int(sys.argv[3], 16))
assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
assert entry.extensions.get_extension_for_class(x509.InvalidityDate).value.invalidity_date.isoformat() == '2026-11-24T13:30:00'
print("number", crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
)";
  WriteFile(line.ca.dir() / "check.py", py);
  int rc = RunCommand("/usr/bin/python3 " + line.Path("check.py") + " " + crl + " " +
                          line.ca.config().ChainPemPath() + " " + SerialOf(d1) + " 2>&1",
                      &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("number ") != std::string::npos);
}

TEST_CASE("bad revocation input gets a clear message and changes nothing", "[revocation]") {
  Line line;
  Line::Issue(line.a, "PO-1", "d1");
  int64_t head = line.AuditHead();
  std::string out;
  struct Case {
    std::string args, message;
  };
  for (const Case& c : std::vector<Case>{
           {"revoke device --id nobody --reason key-compromise", "unknown device nobody"},
           {"revoke order --id PO-9 --reason key-compromise", "unknown order PO-9"},
           {"revoke station --name line-z --since 2026-01-01T00:00:00Z --until "
            "2026-01-02T00:00:00Z --reason key-compromise",
            "unknown station line-z"},
           {"revoke station --name line-a --since 2026-01-02T00:00:00Z --until "
            "2026-01-01T00:00:00Z --reason key-compromise",
            "is after --until"},
           {"revoke station --name line-a --since yesterday --until 2026-01-01T00:00:00Z "
            "--reason key-compromise",
            "is not YYYY-MM-DDTHH:MM:SSZ"},
           {"revoke station --name line-a --since 2026-01-01T00:00:00Z --until "
            "2099-01-01T00:00:00Z --reason key-compromise",
            "is in the future"},
           {"revoke device --id d1 --reason keyCompromise", "unknown revocation reason"},
           {"revoke device --id d1 --reason key-compromise --invalidity-date "
            "9999-12-31T23:59:59Z",
            "--invalidity-date 9999-12-31T23:59:59Z is not a past time"},
           {"revoke device --id d1 --reason key-compromise --invalidity-date "
            "2099-01-01T00:00:00Z",
            "is not a past time"},
           {"revoke device --id d1 --reason key-compromise --invalidity-date "
            "1600-01-01T00:00:00Z",
            "is not a past time"},
           {"unrevoke --id d1", "device d1 is not revoked"},
           {"device show --id nobody", "unknown device nobody"},
           {"device rework --id nobody", "unknown device nobody"},
       }) {
    INFO(c.args);
    CHECK(line.Cli(c.args, &out) == 1);
    CHECK(out.find(c.message) != std::string::npos);
  }
  REQUIRE(line.Cli("revoke device --id d1 --reason key-compromise", &out) == 0);
  CHECK(line.Cli("unrevoke --id d1", &out) == 1);
  CHECK(out.find("only certificate-hold can be lifted") != std::string::npos);
  CHECK(line.Count("SELECT COUNT(*) FROM revocations") == 1);
  // The one revocation's record; the serving CA may have published a CRL (crl.issued) too.
  CHECK(line.Count("SELECT COUNT(*) FROM audit_log WHERE event != 'crl.issued' AND seq > " +
                   std::to_string(head)) == 1);
}

TEST_CASE("a certificate-hold is lifted, and a lifted hold leaves the next CRL", "[revocation]") {
  Line line;
  Bytes d1 = Line::Issue(line.a, "PO-1", "d1");
  line.WritePem("d1.pem", d1);
  std::string out;
  REQUIRE(line.Cli("revoke device --id d1 --reason certificate-hold", &out) == 0);
  REQUIRE(line.Cli("crl issue", &out) == 0);
  CHECK(line.OpensslVerify("d1.pem", &out) != 0);
  REQUIRE(line.Cli("unrevoke --id d1", &out) == 0);
  REQUIRE(line.Cli("crl issue", &out) == 0);
  CHECK(out.find("with 0 entries") != std::string::npos);
  CHECK(line.OpensslVerify("d1.pem", &out) == 0);
  CHECK(line.Count("SELECT COUNT(*) FROM audit_log WHERE event = 'certificate.unrevoked'") == 1);
}

TEST_CASE("a reworked device gets a new certificate and keeps the old one on record",
          "[revocation]") {
  Line line;
  DeviceKey key = DeviceKey::Make();
  Bytes first = Line::Issue(line.a, "PO-1", "d1", key.csr_der);
  std::string out;
  REQUIRE(line.Cli("revoke device --id d1 --reason key-compromise", &out) == 0);
  // Revoked: a retry with the same key does not hand the revoked certificate out again.
  auto refused = CallIssue(line.a.stub(), "PO-1", "d1", key.csr_der);
  CHECK(refused.status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(refused.status.error_message().find("rework") != std::string::npos);
  REQUIRE(line.Cli("device rework --id d1", &out) == 0);
  Bytes second = Line::Issue(line.a, "PO-1", "d1");
  CHECK(SerialOf(second) != SerialOf(first));
  REQUIRE(line.Cli("device show --id d1", &out) == 0);
  CHECK(out.find("serial " + SerialOf(second)) != std::string::npos);
  CHECK(out.find("former " + SerialOf(first)) != std::string::npos);
  CHECK(out.find("revoked key-compromise") != std::string::npos);         // kept its first reason
  CHECK(line.Count("SELECT issued FROM orders WHERE id = 'PO-1'") == 2);  // quota used twice
  CHECK(line.Count("SELECT COUNT(*) FROM audit_log WHERE event = 'device.reworked'") == 1);

  // Rework of a device whose certificate is not revoked revokes it as superseded.
  Bytes other = Line::Issue(line.a, "PO-1", "d2");
  REQUIRE(line.Cli("device rework --id d2", &out) == 0);
  CHECK(line.Count("SELECT COUNT(*) FROM revocations WHERE reason = 'superseded' AND "
                   "serial_hex = '" +
                   SerialOf(other) + "'") == 1);
}

TEST_CASE("the serving CA publishes a new CRL within seconds of a revocation", "[revocation]") {
  Line line;
  Line::Issue(line.a, "PO-1", "d1");
  // A station keeps issuing while the operator revokes.
  std::atomic<bool> stop{false};
  std::atomic<int> issued{0};
  std::thread station([&] {
    for (int i = 0; !stop; ++i) {
      auto ok =
          CallIssue(line.a.stub(), "PO-2", "live-" + std::to_string(i), DeviceKey::Make().csr_der);
      if (ok.status.ok()) ++issued;
    }
  });
  std::string out;
  REQUIRE(line.Cli("revoke device --id d1 --reason key-compromise", &out) == 0);
  bool published = false;
  for (int i = 0; i < 100 && !published; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::string text;
    if (RunCommand("openssl crl -in " + ca::CrlPath(line.ca.config()) + ".pem -noout -text 2>&1",
                   &text) == 0) {
      published = text.find("Revoked Certificates:") != std::string::npos;
    }
  }
  stop = true;
  station.join();
  CHECK(published);
  CHECK(issued > 0);
  // Nothing lost: every certificate the station got is in the registry, none of them revoked.
  CHECK(line.Count("SELECT COUNT(*) FROM devices WHERE order_id = 'PO-2'") == issued);
  CHECK(line.Count("SELECT COUNT(*) FROM revocations") == 1);
}

TEST_CASE(
    "a station window revoked while stations issue revokes exactly that station's "
    "certificates issued before it, and loses nothing",
    "[revocation]") {
  Line line;
  std::atomic<bool> stop{false};
  std::atomic<int> issued_a{0}, issued_b{0};
  auto run = [&](StationClient& station, const char* order, const char* prefix,
                 std::atomic<int>& issued) {
    for (int i = 0; !stop; ++i) {
      auto call =
          CallIssue(station.stub(), order, prefix + std::to_string(i), DeviceKey::Make().csr_der);
      if (call.status.ok()) ++issued;
    }
  };
  std::thread a([&] { run(line.a, "PO-2", "a-", issued_a); });
  std::thread b([&] { run(line.b, "PO-1", "b-", issued_b); });
  while (issued_b < 10) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  int64_t now = NowMs();
  std::string out;
  REQUIRE(line.Cli("revoke station --name line-b --since " + FormatUtcTime(now - 600'000) +
                       " --until " + FormatUtcTime(now) + " --reason key-compromise",
                   &out) == 0);
  int before = issued_b;
  while (issued_b < before + 10) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  a.join();
  b.join();
  int64_t seq = line.Count("SELECT seq FROM audit_log WHERE event = 'certificate.revoked'");
  int64_t until_ms = now / 1000 * 1000 + 999;
  std::string window = " AND d.issued_ms >= " + std::to_string(now / 1000 * 1000 - 600'000) +
                       " AND d.issued_ms <= " + std::to_string(until_ms) +
                       " AND d.issue_audit_seq < " + std::to_string(seq);
  // Exactly line-b's certificates from the window that were issued before the revocation.
  int64_t selected =
      line.Count("SELECT COUNT(*) FROM devices d WHERE d.station = 'line-b'" + window);
  CHECK(selected >= 10);
  CHECK(line.Count("SELECT COUNT(*) FROM revocations") == selected);
  CHECK(line.Count("SELECT COUNT(*) FROM revocations r JOIN devices d ON d.serial_hex = "
                   "r.serial_hex WHERE d.station = 'line-b'" +
                   window) == selected);
  // line-b kept issuing after it, unrevoked; line-a was never touched.
  CHECK(line.Count("SELECT COUNT(*) FROM devices d WHERE d.station = 'line-b' AND "
                   "d.issue_audit_seq > " +
                   std::to_string(seq)) >= 10);
  CHECK(line.Count("SELECT COUNT(*) FROM revocations r JOIN devices d ON d.serial_hex = "
                   "r.serial_hex WHERE d.station = 'line-a'") == 0);
  // Nothing lost: every certificate a station was given is in the registry.
  CHECK(line.Count("SELECT COUNT(*) FROM devices WHERE station = 'line-a' AND order_id = 'PO-2'") ==
        issued_a);
  CHECK(line.Count("SELECT COUNT(*) FROM devices WHERE station = 'line-b'") == issued_b);
}

}  // namespace
}  // namespace imprint::testing
