#include "common/x509/certificate_builder.h"

#include <catch2/catch.hpp>

#include "common/x509/chain.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "common/x509/name.h"
#include "tests/common/x509_test_util.h"

namespace imprint::x509 {
namespace {

using testing::DeviceProfile;
using testing::Issue;
using testing::IssuingProfile;
using testing::RootProfile;
using testing::TestKey;

struct Hierarchy {
  std::unique_ptr<EvpSigner> root_signer = EvpSigner::Create(TestKey("P-256")).value();
  std::unique_ptr<EvpSigner> issuing_signer = EvpSigner::Create(TestKey("P-256")).value();
  X509Ptr root =
      Issue(RootProfile(), "Test Root", root_signer->public_key(), nullptr, *root_signer);
  X509Ptr issuing = Issue(IssuingProfile(), "Test Issuing", issuing_signer->public_key(),
                          root.get(), *root_signer);
};

std::string Extension(X509* cert, int nid, bool* critical) {
  int index = X509_get_ext_by_NID(cert, nid, -1);
  REQUIRE(index >= 0);
  X509_EXTENSION* ext = X509_get_ext(cert, index);
  *critical = X509_EXTENSION_get_critical(ext) == 1;
  BioPtr bio(BIO_new(BIO_s_mem()));
  REQUIRE(X509V3_EXT_print(bio.get(), ext, 0, 0) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

TEST_CASE("MakeSerial gives a positive 16-byte serial from any random bytes", "[builder]") {
  for (uint8_t first : {0x00, 0x7f, 0x80, 0xff}) {
    Bytes random(16, 0xff);
    random[0] = first;
    Bytes serial = MakeSerial(random);
    REQUIRE(serial.size() == 16);
    CHECK((serial[0] & 0x80) == 0);
    CHECK((serial[0] & 0x40) != 0);
  }
}

TEST_CASE("a device certificate carries the IDevID-style profile", "[builder]") {
  Hierarchy h;
  auto device_key = TestKey("P-256");
  X509Ptr leaf = Issue(DeviceProfile(), "dev-0001", device_key.get(), h.issuing.get(),
                       *h.issuing_signer, {"urn:imprint:device:dev-0001"});

  // notAfter is the RFC 5280 4.1.2.5 "no well-defined expiration" value, as GeneralizedTime.
  const ASN1_TIME* not_after = X509_get0_notAfter(leaf.get());
  CHECK(ASN1_STRING_type(not_after) == V_ASN1_GENERALIZEDTIME);
  CHECK(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(not_after))) ==
        "99991231235959Z");
  CHECK(ASN1_STRING_type(X509_get0_notBefore(leaf.get())) == V_ASN1_UTCTIME);
  CHECK(X509_cmp_current_time(X509_get0_notBefore(leaf.get())) < 0);

  const ASN1_INTEGER* serial = X509_get0_serialNumber(leaf.get());
  CHECK(ASN1_STRING_length(serial) == 16);
  CHECK(ASN1_STRING_type(serial) == V_ASN1_INTEGER);  // not V_ASN1_NEG_INTEGER

  bool critical = false;
  CHECK(Extension(leaf.get(), NID_basic_constraints, &critical) == "CA:FALSE");
  CHECK(critical);
  CHECK(Extension(leaf.get(), NID_key_usage, &critical) == "Digital Signature");
  CHECK(critical);
  CHECK(Extension(leaf.get(), NID_ext_key_usage, &critical) == "TLS Web Client Authentication");
  CHECK_FALSE(critical);
  CHECK(Extension(leaf.get(), NID_subject_alt_name, &critical) ==
        "URI:urn:imprint:device:dev-0001");
  CHECK(X509_get_signature_nid(leaf.get()) == NID_ecdsa_with_SHA256);

  const ASN1_OCTET_STRING* issuer_ski = X509_get0_subject_key_id(h.issuing.get());
  const ASN1_OCTET_STRING* leaf_aki = X509_get0_authority_key_id(leaf.get());
  REQUIRE(issuer_ski != nullptr);
  REQUIRE(leaf_aki != nullptr);
  CHECK(ASN1_OCTET_STRING_cmp(issuer_ski, leaf_aki) == 0);
  CHECK(X509_get0_subject_key_id(leaf.get()) != nullptr);

  std::vector<X509*> intermediates{h.issuing.get()};
  CHECK(VerifyChain(leaf.get(), intermediates, h.root.get()).has_value());
}

TEST_CASE("a request's notAfter overrides the profile's lifetime, to the second", "[builder]") {
  Hierarchy h;
  auto key = TestKey("P-256");
  CertificateProfile profile = DeviceProfile();
  profile.lifetime = std::chrono::days(365);
  CertificateRequest request;
  request.profile = &profile;
  request.subject.name = {{"CN", "sub"}};
  request.public_key = key.get();
  request.serial = testing::TestSerial();
  time_t end = std::chrono::system_clock::to_time_t(request.issued_at) + 72 * 3600 + 17;
  request.not_after = std::chrono::system_clock::from_time_t(end);
  auto cert = IssueCertificate(request, h.issuing.get(), *h.issuing_signer);
  REQUIRE(cert.has_value());
  CHECK(X509_cmp_time(X509_get0_notAfter(cert->get()), &end) < 0);  // at or before `end`
  time_t before = end - 1;
  CHECK(X509_cmp_time(X509_get0_notAfter(cert->get()), &before) > 0);  // after `end - 1`
}

TEST_CASE("a backdated certificate never starts before its issuer", "[builder]") {
  // An issuer made a moment ago (not backdated) and a leaf backdated by its profile: the leaf's
  // notBefore is the issuer's, so the chain is valid at the leaf's notBefore (a Matter DAC's).
  auto root_signer = EvpSigner::Create(TestKey("P-256")).value();
  CertificateProfile fresh = RootProfile();
  fresh.backdate = std::chrono::seconds(0);
  X509Ptr root = Issue(fresh, "Fresh Root", root_signer->public_key(), nullptr, *root_signer);
  CertificateProfile backdated = DeviceProfile();
  backdated.backdate = std::chrono::minutes(5);
  auto key = TestKey("P-256");
  X509Ptr leaf = Issue(backdated, "dev-1", key.get(), root.get(), *root_signer);
  CHECK(ASN1_TIME_compare(X509_get0_notBefore(leaf.get()), X509_get0_notBefore(root.get())) == 0);

  // An issuer older than the backdate leaves the leaf's own notBefore: about 5 minutes ago.
  Hierarchy h;
  X509Ptr older = Issue(backdated, "dev-2", key.get(), h.issuing.get(), *h.issuing_signer);
  time_t four_minutes_ago = time(nullptr) - 240;
  CHECK(X509_cmp_time(X509_get0_notBefore(older.get()), &four_minutes_ago) < 0);
}

TEST_CASE("a directoryName in the subjectAltName is copied as given, a broken one refused",
          "[builder]") {
  Hierarchy h;
  auto key = TestKey("P-256");
  X509NamePtr tpm = BuildName({{"2.23.133.2.1", "id:00001014"}, {"2.23.133.2.2", "swtpm"}}).value();
  unsigned char* der = nullptr;
  int len = i2d_X509_NAME(tpm.get(), &der);
  REQUIRE(len > 0);
  Bytes name_der(der, der + len);
  OPENSSL_free(der);
  CertificateProfile profile = DeviceProfile();
  CertificateRequest request;
  request.profile = &profile;
  request.subject.name = {{"CN", "dev-1"}};
  request.subject.san_uris = {"urn:imprint:device:dev-1"};
  request.subject.san_directory_names = {name_der};
  request.public_key = key.get();
  request.serial = testing::TestSerial();
  auto cert = IssueCertificate(request, h.issuing.get(), *h.issuing_signer);
  REQUIRE(cert.has_value());
  bool critical = false;
  std::string san = Extension(cert->get(), NID_subject_alt_name, &critical);
  CHECK(san.find("URI:urn:imprint:device:dev-1") != std::string::npos);
  CHECK(san.find("DirName:") != std::string::npos);
  CHECK(san.find("swtpm") != std::string::npos);

  request.subject.san_directory_names = {Bytes(name_der.begin(), name_der.end() - 1)};
  auto broken = IssueCertificate(request, h.issuing.get(), *h.issuing_signer);
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().code() == Code::kInvalidArgument);
}

TEST_CASE("a chain to a different root does not verify", "[builder]") {
  Hierarchy h;
  Hierarchy other;
  auto key = TestKey("P-256");
  X509Ptr leaf = Issue(DeviceProfile(), "dev-2", key.get(), h.issuing.get(), *h.issuing_signer);
  std::vector<X509*> intermediates{h.issuing.get()};
  auto status = VerifyChain(leaf.get(), intermediates, other.root.get());
  REQUIRE_FALSE(status.has_value());
  CHECK(status.error().code() == Code::kInvalidArgument);
}

TEST_CASE("a signer that is not the issuer's key is refused", "[builder]") {
  Hierarchy h;
  auto key = TestKey("P-256");
  CertificateProfile profile = DeviceProfile();
  CertificateRequest request;
  request.profile = &profile;
  request.subject.name = {{"CN", "dev"}};
  request.public_key = key.get();
  request.serial = testing::TestSerial();
  auto cert = IssueCertificate(request, h.issuing.get(), *h.root_signer);
  REQUIRE_FALSE(cert.has_value());
  CHECK(cert.error().code() == Code::kInvalidArgument);
}

TEST_CASE("bad subject fields and serials are rejected", "[builder]") {
  Hierarchy h;
  auto key = TestKey("P-256");
  CertificateProfile profile = DeviceProfile();
  CertificateRequest request;
  request.profile = &profile;
  request.public_key = key.get();
  request.serial = testing::TestSerial();
  request.subject.name = {{"CN", std::string(1000, 'x')}};
  CHECK(IssueCertificate(request, h.issuing.get(), *h.issuing_signer).error().code() ==
        Code::kInvalidArgument);
  request.subject.name = {{"NoSuchAttribute", "x"}};
  CHECK(IssueCertificate(request, h.issuing.get(), *h.issuing_signer).error().code() ==
        Code::kInvalidArgument);
  request.subject.name = {{"CN", "ok"}};
  request.serial = Bytes(16, 0xff);  // negative
  CHECK(IssueCertificate(request, h.issuing.get(), *h.issuing_signer).error().code() ==
        Code::kInvalidArgument);
}

TEST_CASE("certificates round-trip through PEM and DER", "[builder]") {
  Hierarchy h;
  auto pem = CertificateToPem(h.root.get());
  REQUIRE(pem.has_value());
  auto bundle = ParseCertificatesPem(*pem + testing::ToPem(h.issuing.get()));
  REQUIRE(bundle.has_value());
  REQUIRE(bundle->size() == 2);
  CHECK(X509_cmp(bundle->at(1).get(), h.issuing.get()) == 0);
  auto der = CertificateToDer(h.issuing.get());
  CHECK(X509_cmp(ParseCertificateDer(*der)->get(), h.issuing.get()) == 0);
  CHECK(ParseCertificatePem("not a certificate").error().code() == Code::kInvalidArgument);
  Bytes truncated(der->begin(), der->begin() + 40);
  CHECK(ParseCertificateDer(truncated).error().code() == Code::kInvalidArgument);
  CHECK(SpkiSha256(h.root_signer->public_key())->size() == 32);
}

}  // namespace
}  // namespace imprint::x509
