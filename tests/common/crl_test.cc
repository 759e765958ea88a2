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

TEST_CASE("bad CRL requests are refused", "[crl]") {
  Hierarchy h;
  auto now = system_clock::now();
  x509::CrlRequest backwards{h.root.get(), 1, now, now - std::chrono::hours(1), {}};
  CHECK(x509::BuildCrl(backwards, *h.root_signer).error().code() == Code::kInvalidArgument);
  x509::CrlRequest negative{h.root.get(), 1, now, now + std::chrono::hours(1), {}};
  negative.entries.push_back({Bytes{0x80, 0x01}, now, x509::CrlReason::kSuperseded, {}});
  CHECK(x509::BuildCrl(negative, *h.root_signer).error().code() == Code::kInvalidArgument);
  CHECK(x509::ParseCrlReason("key-compromise").value() == x509::CrlReason::kKeyCompromise);
  auto unknown = x509::ParseCrlReason("keyCompromise");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message().find("certificate-hold") != std::string::npos);
}

}  // namespace
}  // namespace imprint::testing
