// CRLs from BuildCrl, judged by tools nobody here wrote: openssl (signature, CRL checks in
// path validation), GnuTLS certtool and python3-cryptography (every field).

#include "common/x509/crl.h"

#include <catch2/catch.hpp>

#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/common/x509_test_util.h"
#include "tests/support/temp_dir.h"

namespace imprint::testing {
namespace {

using std::chrono::system_clock;

struct Hierarchy {
  TempDir dir;
  x509::PkeyPtr root_key = TestKey("P-256");
  std::unique_ptr<x509::EvpSigner> root_signer = x509::EvpSigner::Create(TestKey("P-256")).value();
  x509::X509Ptr root;
  x509::PkeyPtr revoked_key = TestKey("P-256"), good_key = TestKey("P-256");
  x509::X509Ptr revoked, good;

  Hierarchy() {
    root = Issue(RootProfile(), "Test Root", root_signer->public_key(), nullptr, *root_signer);
    revoked = Issue(DeviceProfile(), "dev-revoked", revoked_key.get(), root.get(), *root_signer);
    good = Issue(DeviceProfile(), "dev-good", good_key.get(), root.get(), *root_signer);
    WriteFile(dir / "root.pem", ToPem(root.get()));
    WriteFile(dir / "revoked.pem", ToPem(revoked.get()));
    WriteFile(dir / "good.pem", ToPem(good.get()));
  }

  static Bytes Serial(const X509* cert) {
    const ASN1_INTEGER* s = X509_get0_serialNumber(cert);
    return Bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
  }

  // Writes crl.der and crl.pem.
  void Write(const Bytes& der) {
    WriteFile(dir / "crl.der", std::string(der.begin(), der.end()));
    std::string out;
    REQUIRE(RunCommand("openssl crl -inform DER -in " + (dir / "crl.der").string() + " -out " +
                           (dir / "crl.pem").string(),
                       &out) == 0);
  }
};

TEST_CASE("a CRL verifies with openssl and revokes exactly its entries", "[crl]") {
  Hierarchy h;
  auto now = system_clock::now();
  x509::CrlRequest request{h.root.get(), 42, now, now + std::chrono::hours(24 * 7), {}};
  request.entries.push_back({Hierarchy::Serial(h.revoked.get()), now - std::chrono::hours(1),
                             x509::CrlReason::kKeyCompromise, now - std::chrono::hours(30)});
  auto crl = x509::BuildCrl(request, *h.root_signer);
  REQUIRE(crl.has_value());
  h.Write(*crl);
  std::string dir = h.dir.path().string(), out;

  CHECK(RunCommand("openssl crl -in " + dir + "/crl.pem -CAfile " + dir + "/root.pem -verify " +
                       "-noout 2>&1",
                   &out) == 0);
  INFO(out);
  CHECK(out.find("verify OK") != std::string::npos);
  std::string check =
      "openssl verify -crl_check -CAfile " + dir + "/root.pem -CRLfile " + dir + "/crl.pem ";
  CHECK(RunCommand(check + dir + "/good.pem 2>&1", &out) == 0);
  CHECK(RunCommand(check + dir + "/revoked.pem 2>&1", &out) != 0);
  CHECK(out.find("certificate revoked") != std::string::npos);

  REQUIRE(RunCommand("certtool --crl-info --inder --infile " + dir + "/crl.der 2>&1", &out) == 0);
  CHECK(out.find("Version: 2") != std::string::npos);
  CHECK(out.find("CRL Number (not critical):") != std::string::npos);
  CHECK(out.find("Revoked certificates (1)") != std::string::npos);

  // python3-cryptography: every field.
  std::string py = R"(
import sys, datetime
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
crl = x509.load_der_x509_crl(open(sys.argv[1], 'rb').read())
root = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read())
assert crl.is_signature_valid(root.public_key())
assert crl.issuer == root.subject
assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 42
aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
assert aki.key_identifier == ski.digest
assert (crl.next_update - crl.last_update).days == 7
(entry,) = list(crl)
assert entry.serial_number == int(sys.argv[3], 16)
assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
inv = entry.extensions.get_extension_for_class(x509.InvalidityDate).value.invalidity_date
assert abs((entry.revocation_date - inv).total_seconds() - 29 * 3600) < 2
print("OK")
)";
  WriteFile(h.dir / "check.py", py);
  std::string serial_hex = HexEncode(Hierarchy::Serial(h.revoked.get()));
  CHECK(RunCommand("/usr/bin/python3 " + dir + "/check.py " + dir + "/crl.der " + dir +
                       "/root.pem " + serial_hex + " 2>&1",
                   &out) == 0);
  INFO(out);
  CHECK(out.find("OK") != std::string::npos);
}

TEST_CASE("an empty CRL leaves out its list, and an unspecified reason has no reason code",
          "[crl]") {
  Hierarchy h;
  auto now = system_clock::now();
  x509::CrlRequest empty{h.root.get(), 1, now, now + std::chrono::hours(1), {}};
  auto crl = x509::BuildCrl(empty, *h.root_signer);
  REQUIRE(crl.has_value());
  h.Write(*crl);
  std::string dir = h.dir.path().string(), out;
  REQUIRE(RunCommand("openssl crl -in " + dir + "/crl.pem -noout -text 2>&1", &out) == 0);
  CHECK(out.find("No Revoked Certificates.") != std::string::npos);

  x509::CrlRequest one = empty;
  one.entries.push_back(
      {Hierarchy::Serial(h.revoked.get()), now, x509::CrlReason::kUnspecified, {}});
  crl = x509::BuildCrl(one, *h.root_signer);
  REQUIRE(crl.has_value());
  h.Write(*crl);
  REQUIRE(RunCommand("openssl crl -in " + dir + "/crl.pem -noout -text 2>&1", &out) == 0);
  CHECK(out.find("Revoked Certificates:") != std::string::npos);
  CHECK(out.find("Reason Code") == std::string::npos);
}

TEST_CASE("a CRL's entries are counted from its DER", "[crl]") {
  Hierarchy h;
  auto now = system_clock::now();
  for (size_t n : {0, 1, 5, 300}) {
    x509::CrlRequest request{h.root.get(), 7, now, now + std::chrono::hours(1), {}};
    for (size_t i = 0; i < n; ++i) {
      Bytes serial{0x01, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
      request.entries.push_back({serial, now, x509::CrlReason::kSuperseded, {}});
    }
    auto crl = x509::BuildCrl(request, *h.root_signer);
    REQUIRE(crl.has_value());
    INFO(n);
    CHECK(x509::CountCrlEntries(*crl).value() == static_cast<int64_t>(n));
    // openssl counts the same.
    h.Write(*crl);
    std::string out;
    std::string pem = (h.dir / "crl.pem").string();
    REQUIRE(RunCommand("openssl crl -in " + pem + " -noout -text", &out) == 0);
    size_t serials = 0;
    for (size_t at = out.find("Serial Number:"); at != std::string::npos;
         at = out.find("Serial Number:", at + 1)) {
      ++serials;
    }
    CHECK(serials == n);
    // Cut short, it is refused.
    Bytes cut(crl->begin(), crl->begin() + static_cast<std::ptrdiff_t>(crl->size() / 2));
    CHECK(x509::CountCrlEntries(cut).error().code() == Code::kInvalidArgument);
  }
  CHECK(x509::CountCrlEntries(Bytes{}).error().code() == Code::kInvalidArgument);
}

// Devices a station signs offline chain to the root through the allowance's subordinate; the
// issuing CA publishes their revocations in an indirect CRL (docs/offline.md).
TEST_CASE("an indirect CRL revokes another issuer's certificate, and only that issuer's", "[crl]") {
  Hierarchy h;
  auto issuing_signer = x509::EvpSigner::Create(TestKey("P-256")).value();
  auto sub_signer = x509::EvpSigner::Create(TestKey("P-256")).value();
  x509::X509Ptr issuing = Issue(IssuingProfile(), "Test Issuing CA", issuing_signer->public_key(),
                                h.root.get(), *h.root_signer);
  x509::X509Ptr sub =
      Issue(IssuingProfile(), "cm-line-3", sub_signer->public_key(), h.root.get(), *h.root_signer);
  const std::string url = "http://pki.example/crl/offline.crl";
  x509::CertificateProfile offline = DeviceProfile();
  offline.crl_url = url;
  offline.crl_issuer_der = x509::ToDer(i2d_X509_NAME, X509_get_subject_name(issuing.get())).value();
  // Two devices of the subordinate, and one of the issuing CA with the revoked one's serial.
  auto device = [&](const char* cn, const X509* issuer, x509::Signer& signer, const Bytes& serial,
                    const x509::CertificateProfile& profile) {
    x509::CertificateRequest request;
    request.profile = &profile;
    request.subject.name = {{"CN", cn}};
    x509::PkeyPtr key = TestKey("P-256");
    request.public_key = key.get();
    request.serial = serial;
    auto cert = x509::IssueCertificate(request, issuer, signer);
    REQUIRE(cert.has_value());
    WriteFile(h.dir / (std::string(cn) + ".pem"), ToPem(cert->get()));
    return std::move(*cert);
  };
  Bytes serial = TestSerial();
  auto revoked = device("offline-revoked", sub.get(), *sub_signer, serial, offline);
  device("offline-good", sub.get(), *sub_signer, TestSerial(), offline);
  device("online-same-serial", issuing.get(), *issuing_signer, serial, DeviceProfile());
  WriteFile(h.dir / "chain.pem", ToPem(issuing.get()) + ToPem(sub.get()));

  auto now = system_clock::now();
  x509::CrlRequest request{issuing.get(), 7, now, now + std::chrono::hours(24), {}};
  request.indirect_url = url;
  x509::CrlEntry entry{serial, now, x509::CrlReason::kKeyCompromise, {}};
  entry.certificate_issuer = x509::ToDer(i2d_X509_NAME, X509_get_subject_name(sub.get())).value();
  request.entries.push_back(entry);
  auto crl = x509::BuildCrl(request, *issuing_signer);
  REQUIRE(crl.has_value());
  h.Write(*crl);
  // The issuing CA's own (direct, empty) CRL beside it, as a relying party would hold both.
  x509::CrlRequest direct{issuing.get(), 8, now, now + std::chrono::hours(24), {}};
  auto direct_crl = x509::BuildCrl(direct, *issuing_signer);
  REQUIRE(direct_crl.has_value());
  WriteFile(h.dir / "direct.der", std::string(direct_crl->begin(), direct_crl->end()));
  std::string dir = h.dir.path().string(), out;
  REQUIRE(
      RunCommand("openssl crl -inform DER -in " + dir + "/direct.der -out " + dir + "/direct.pem",
                 &out) == 0);

  std::string check = "openssl verify -crl_check -extended_crl -CAfile " + dir +
                      "/root.pem -untrusted " + dir + "/chain.pem -CRLfile " + dir +
                      "/crl.pem -CRLfile " + dir + "/direct.pem ";
  CHECK(RunCommand(check + dir + "/offline-good.pem 2>&1", &out) == 0);
  INFO(out);
  CHECK(RunCommand(check + dir + "/offline-revoked.pem 2>&1", &out) != 0);
  CHECK(out.find("certificate revoked") != std::string::npos);
  // The entry names its issuer: the issuing CA's certificate with the same serial stands.
  CHECK(RunCommand(check + dir + "/online-same-serial.pem 2>&1", &out) == 0);
  // OpenSSL reads indirect CRLs only when asked to (-extended_crl); without, it finds no CRL.
  CHECK(RunCommand("openssl verify -crl_check -CAfile " + dir + "/root.pem -untrusted " + dir +
                       "/chain.pem -CRLfile " + dir + "/crl.pem " + dir + "/offline-good.pem 2>&1",
                   &out) != 0);
  CHECK(out.find("unable to get certificate CRL") != std::string::npos);

  REQUIRE(RunCommand("certtool --crl-info --inder --infile " + dir + "/crl.der 2>&1", &out) == 0);
  CHECK(out.find("Revoked certificates (1)") != std::string::npos);
  std::string py = R"(
import sys
from cryptography import x509
crl = x509.load_der_x509_crl(open(sys.argv[1], 'rb').read())
pems = open(sys.argv[2], 'rb').read().split(b'-----END CERTIFICATE-----')
issuing, sub = [x509.load_pem_x509_certificate(p + b'-----END CERTIFICATE-----') for p in pems[:2]]
assert crl.is_signature_valid(issuing.public_key())
idp = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
assert idp.critical and idp.value.indirect_crl
assert idp.value.full_name == [x509.UniformResourceIdentifier(sys.argv[3])]
(entry,) = list(crl)
ci = entry.extensions.get_extension_for_class(x509.CertificateIssuer)
assert ci.critical and ci.value == x509.CertificateIssuer([x509.DirectoryName(sub.subject)])
device = x509.load_pem_x509_certificate(open(sys.argv[4], 'rb').read())
(point,) = device.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
assert point.full_name == [x509.UniformResourceIdentifier(sys.argv[3])]
assert point.crl_issuer == [x509.DirectoryName(issuing.subject)]
print("OK")
)";
  WriteFile(h.dir / "check.py", py);
  CHECK(RunCommand("/usr/bin/python3 " + dir + "/check.py " + dir + "/crl.der " + dir +
                       "/chain.pem " + url + " " + dir + "/offline-revoked.pem 2>&1",
                   &out) == 0);
  INFO(out);
  CHECK(out.find("OK") != std::string::npos);
  (void)revoked;
}

TEST_CASE("bad CRL requests are refused", "[crl]") {
  Hierarchy h;
  auto now = system_clock::now();
  x509::CrlRequest backwards{h.root.get(), 1, now, now - std::chrono::hours(1), {}};
  CHECK(x509::BuildCrl(backwards, *h.root_signer).error().code() == Code::kInvalidArgument);
  x509::CrlRequest negative{h.root.get(), 1, now, now + std::chrono::hours(1), {}};
  negative.entries.push_back({Bytes{0x80, 0x01}, now, x509::CrlReason::kSuperseded, {}});
  CHECK(x509::BuildCrl(negative, *h.root_signer).error().code() == Code::kInvalidArgument);
  // A certificate issuer in a direct CRL would be ignored by readers: refused.
  x509::CrlRequest direct{h.root.get(), 1, now, now + std::chrono::hours(1), {}};
  x509::CrlEntry other{TestSerial(), now, x509::CrlReason::kSuperseded, {}};
  other.certificate_issuer =
      x509::ToDer(i2d_X509_NAME, X509_get_subject_name(h.root.get())).value();
  direct.entries.push_back(other);
  CHECK(x509::BuildCrl(direct, *h.root_signer).error().code() == Code::kInvalidArgument);
  direct.indirect_url = "http://pki.example/crl/offline.crl";
  CHECK(x509::BuildCrl(direct, *h.root_signer).has_value());
  direct.entries[0].certificate_issuer = {0x30, 0x03};  // not a Name
  CHECK(x509::BuildCrl(direct, *h.root_signer).error().code() == Code::kInvalidArgument);
  CHECK(x509::ParseCrlReason("key-compromise").value() == x509::CrlReason::kKeyCompromise);
  auto unknown = x509::ParseCrlReason("keyCompromise");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message().find("certificate-hold") != std::string::npos);
}

}  // namespace
}  // namespace imprint::testing
