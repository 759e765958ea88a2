// The Matter parts that read what others send: TLV from devices and operators, attestation
// elements and signatures, Certification Declarations, and the PAA/PAI/DAC profile check,
// each with the hostile and broken inputs next to the good ones.

#include <openssl/cms.h>

#include <catch2/catch.hpp>

#include "common/matter/attestation.h"
#include "common/matter/attestation_certificate.h"
#include "common/matter/certification_declaration.h"
#include "common/matter/tlv.h"
#include "common/x509/ecdsa_signature.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/common/x509_test_util.h"

namespace imprint::matter {
namespace {

using testing::TestKey;
using testing::TestSerial;

std::unique_ptr<x509::EvpSigner> NewSigner(const std::string& type = "P-256") {
  return x509::EvpSigner::Create(TestKey(type)).value();
}

// The CD content as 6.3.1 lays it out (the fields matter.js's generate writes).
Bytes CdContent(uint16_t vid, std::vector<uint16_t> pids, std::string certificate_id) {
  TlvWriter w;
  w.StartStructure();
  w.PutUnsigned(0, 1);
  w.PutUnsigned(1, vid);
  w.StartArray(2);
  for (uint16_t pid : pids) w.PutUnsigned(std::nullopt, pid);
  w.EndContainer();
  w.PutUnsigned(3, 22);
  w.PutUtf8(4, certificate_id);
  w.PutUnsigned(5, 0);
  w.PutUnsigned(6, 0);
  w.PutUnsigned(7, 1);
  w.PutUnsigned(8, 0);
  w.EndContainer();
  return w.Finish();
}

TEST_CASE("TLV written is read back, smallest encodings first", "[matter]") {
  TlvWriter w;
  w.StartStructure();
  w.PutUnsigned(1, 0xFFF1);
  w.PutBytes(2, Bytes(300, 0xab));  // a 2-byte length
  w.PutBool(3, true);
  w.PutUtf8(4, "CSA00000SWC00000-00");
  w.StartArray(5);
  w.PutUnsigned(std::nullopt, 1);
  w.PutUnsigned(std::nullopt, 0x1'0000'0000);
  w.EndContainer();
  w.EndContainer();
  Bytes tlv = w.Finish();
  CHECK(tlv[0] == 0x15);  // anonymous structure
  CHECK(tlv[1] == 0x25);  // context tag, 2-byte unsigned
  auto root = ReadTlv(tlv);
  REQUIRE(root.has_value());
  CHECK(root->Find(1)->unsigned_value == 0xFFF1);
  CHECK(root->Find(2)->bytes.size() == 300);
  CHECK(root->Find(3)->unsigned_value == 1);
  CHECK(root->Find(5)->children.size() == 2);
  CHECK(root->Find(5)->children[1].unsigned_value == 0x1'0000'0000);
  CHECK(root->Find(6) == nullptr);
}

TEST_CASE("hostile TLV is refused, never read past its end", "[matter]") {
  Bytes good = {0x15, 0x30, 0x01, 0x02, 0xaa, 0xbb, 0x18};
  REQUIRE(ReadTlv(good).has_value());
  for (size_t cut = 0; cut < good.size(); ++cut) {
    CHECK_FALSE(ReadTlv(ByteView(good.data(), cut)).has_value());
  }
  Bytes long_length = {0x15, 0x31, 0x01, 0xff, 0xff, 0xaa, 0x18};  // 65535 bytes claimed
  CHECK_FALSE(ReadTlv(long_length).has_value());
  Bytes huge_length = {0x15, 0x33, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x18};
  CHECK_FALSE(ReadTlv(huge_length).has_value());
  Bytes trailing = good;
  trailing.push_back(0x00);
  CHECK_FALSE(ReadTlv(trailing).has_value());
  Bytes deep(20, 0x15);  // structures nested twenty deep
  deep.insert(deep.end(), 20, 0x18);
  auto refused = ReadTlv(deep);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message().find("deeper") != std::string::npos);
  Bytes many = {0x16};  // an array of 5000 nulls
  many.insert(many.end(), 5000, 0x14);
  many.push_back(0x18);
  CHECK_FALSE(ReadTlv(many).has_value());
  CHECK_FALSE(ReadTlv(Bytes{0x0a, 0, 0, 0, 0}).has_value());  // floats are not read
  CHECK_FALSE(ReadTlv(Bytes{0x18}).has_value());              // an end with no container
}

TEST_CASE("an attestation verifies only with its nonce, CD, challenge and DAC key", "[matter]") {
  auto dac = NewSigner();
  Bytes cd = {0x30, 0x03, 0x02, 0x01, 0x01};  // the CD's bytes; not parsed here
  Bytes nonce(kAttestationNonceBytes, 0x11);
  Bytes challenge(kAttestationChallengeBytes, 0x22);
  AttestationElements e{cd, nonce, 12345, std::nullopt};
  Bytes elements = BuildAttestationElements(e).value();
  Bytes der = dac->Sign(AttestationTbs(elements, challenge)).value();
  Bytes signature = x509::EcdsaDerToRaw(der, 32).value();
  EVP_PKEY* key = dac->public_key();
  CHECK(VerifyAttestation(key, elements, challenge, signature, nonce, cd).has_value());

  auto refusal = [&](ByteView el, ByteView ch, ByteView sig, ByteView n, ByteView c) {
    auto r = VerifyAttestation(key, el, ch, sig, n, c);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == Code::kInvalidArgument);
    return r.error().message();
  };
  Bytes other_nonce(kAttestationNonceBytes, 0x12);
  CHECK(refusal(elements, challenge, signature, other_nonce, cd).find("nonce") !=
        std::string::npos);
  Bytes other_cd = cd;
  other_cd.back() ^= 1;
  CHECK(refusal(elements, challenge, signature, nonce, other_cd).find("declaration") !=
        std::string::npos);
  Bytes other_challenge(kAttestationChallengeBytes, 0x23);
  CHECK(refusal(elements, other_challenge, signature, nonce, cd).find("signature") !=
        std::string::npos);
  Bytes flipped = signature;
  flipped[40] ^= 1;
  CHECK(refusal(elements, challenge, flipped, nonce, cd).find("signature") != std::string::npos);
  CHECK(refusal(elements, challenge, Bytes(63, 1), nonce, cd).find("64") != std::string::npos);
  auto another = NewSigner();
  CHECK_FALSE(VerifyAttestation(another->public_key(), elements, challenge, signature, nonce, cd)
                  .has_value());
  // The elements a device signed over another nonce cannot be replayed for this one.
  AttestationElements old{cd, other_nonce, 12345, std::nullopt};
  Bytes old_elements = BuildAttestationElements(old).value();
  Bytes old_sig =
      x509::EcdsaDerToRaw(dac->Sign(AttestationTbs(old_elements, challenge)).value(), 32).value();
  CHECK(refusal(old_elements, challenge, old_sig, nonce, cd).find("nonce") != std::string::npos);
}

TEST_CASE("attestation elements with unknown, missing or oversized parts are refused", "[matter]") {
  Bytes nonce(kAttestationNonceBytes, 0x11);
  CHECK_FALSE(BuildAttestationElements({Bytes(901, 1), nonce, 0, std::nullopt}).has_value());
  TlvWriter unknown;
  unknown.StartStructure();
  unknown.PutBytes(1, Bytes{1});
  unknown.PutBytes(2, nonce);
  unknown.PutUnsigned(3, 0);
  unknown.PutBytes(9, Bytes{1});
  unknown.EndContainer();
  CHECK_FALSE(ParseAttestationElements(unknown.Finish()).has_value());
  TlvWriter short_nonce;
  short_nonce.StartStructure();
  short_nonce.PutBytes(1, Bytes{1});
  short_nonce.PutBytes(2, Bytes(31, 1));
  short_nonce.PutUnsigned(3, 0);
  short_nonce.EndContainer();
  CHECK_FALSE(ParseAttestationElements(short_nonce.Finish()).has_value());
  TlvWriter no_cd;
  no_cd.StartStructure();
  no_cd.PutBytes(2, nonce);
  no_cd.PutUnsigned(3, 0);
  no_cd.EndContainer();
  CHECK_FALSE(ParseAttestationElements(no_cd.Finish()).has_value());
}

TEST_CASE("CD content is read field by field and checked against an order", "[matter]") {
  auto cd = ParseCertificationDeclarationContent(
      CdContent(0xFFF1, {0x8000, 0x8001}, "CSA00000SWC00000-00"));
  REQUIRE(cd.has_value());
  CHECK(cd->vendor_id == 0xFFF1);
  CHECK(cd->product_ids == std::vector<uint16_t>{0x8000, 0x8001});
  CHECK(CheckDeclarationCovers(*cd, 0xFFF1, 0x8001).has_value());
  auto other_vendor = CheckDeclarationCovers(*cd, 0xFFF2, 0x8000);
  REQUIRE_FALSE(other_vendor.has_value());
  CHECK(other_vendor.error().message().find("vendor_id is FFF1") != std::string::npos);
  auto other_product = CheckDeclarationCovers(*cd, 0xFFF1, 0x8002);
  REQUIRE_FALSE(other_product.has_value());
  CHECK(other_product.error().message().find("does not hold 8002") != std::string::npos);

  CHECK_FALSE(ParseCertificationDeclarationContent(CdContent(0xFFF1, {}, "CSA00000SWC00000-00"))
                  .has_value());
  CHECK_FALSE(
      ParseCertificationDeclarationContent(CdContent(0xFFF1, {0x8000}, "short")).has_value());
}

// A CMS SignedData over `content`, signer named by key identifier, as the CSA signs CDs.
Bytes SignCd(ByteView content, EVP_PKEY* key, X509* cert) {
  x509::BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  using CmsPtr = x509::Owned<CMS_ContentInfo, CMS_ContentInfo_free>;
  CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, CMS_BINARY | CMS_PARTIAL));
  REQUIRE(cms);
  REQUIRE(CMS_add1_signer(cms.get(), cert, key, EVP_sha256(),
                          CMS_BINARY | CMS_NOCERTS | CMS_USE_KEYID | CMS_NOATTR) != nullptr);
  REQUIRE(CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) == 1);
  int len = i2d_CMS_ContentInfo(cms.get(), nullptr);
  Bytes der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  i2d_CMS_ContentInfo(cms.get(), &p);
  return der;
}

TEST_CASE("a CD verifies only with its signer, and a changed byte is refused", "[matter]") {
  // An EvpSigner holds the whole key pair, which CMS_sign needs.
  auto signer = NewSigner();
  auto signer_cert =
      testing::Issue(testing::RootProfile(), "CD signer", signer->public_key(), nullptr, *signer);
  Bytes content = CdContent(0xFFF1, {0x8000}, "CSA00000SWC00000-00");
  Bytes cms = SignCd(content, signer->public_key(), signer_cert.get());
  auto cd = VerifyCertificationDeclaration(cms, signer_cert.get());
  REQUIRE(cd.has_value());
  CHECK(cd->vendor_id == 0xFFF1);

  auto other = NewSigner();
  auto other_cert =
      testing::Issue(testing::RootProfile(), "CD signer", other->public_key(), nullptr, *other);
  auto wrong_signer = VerifyCertificationDeclaration(cms, other_cert.get());
  REQUIRE_FALSE(wrong_signer.has_value());
  CHECK(wrong_signer.error().message().find("another key") != std::string::npos);

  // Every single changed byte of the content is refused (it is inside the signed data).
  size_t at = 0;
  for (size_t i = 0; i + content.size() <= cms.size(); ++i) {
    if (std::equal(content.begin(), content.end(), cms.begin() + static_cast<ptrdiff_t>(i))) {
      at = i;
      break;
    }
  }
  REQUIRE(at > 0);
  for (size_t k = 0; k < content.size(); ++k) {
    Bytes tampered = cms;
    tampered[at + k] ^= 0x01;
    CHECK_FALSE(VerifyCertificationDeclaration(tampered, signer_cert.get()).has_value());
  }
  CHECK_FALSE(VerifyCertificationDeclaration(Bytes(cms.begin(), cms.end() - 1), signer_cert.get())
                  .has_value());
  CHECK_FALSE(VerifyCertificationDeclaration(Bytes(700, 0x30), signer_cert.get()).has_value());
}

// A certificate for `key` under `issuer` with `profile` and subject `name`.
Bytes Certify(const x509::CertificateProfile& profile,
              std::vector<std::pair<std::string, std::string>> name, EVP_PKEY* key,
              const X509* issuer, x509::Signer& signer) {
  x509::CertificateRequest request;
  request.profile = &profile;
  request.subject.name = std::move(name);
  request.public_key = key;
  request.serial = TestSerial();
  return x509::IssueCertificateDer(request, issuer, signer).value();
}

x509::CertificateProfile Profile(bool ca, int path_length, std::vector<std::string> usage) {
  x509::CertificateProfile p;
  p.is_ca = ca;
  p.path_length = path_length;
  p.key_usage = std::move(usage);
  p.lifetime = std::nullopt;
  return p;
}

TEST_CASE("the attestation profile: good PAA, PAI and DAC pass; each broken rule is named",
          "[matter]") {
  auto paa_key = NewSigner();
  auto pai_key = NewSigner();
  auto dac_key = NewSigner();
  auto paa_profile = Profile(true, 1, {"keyCertSign", "cRLSign"});
  auto pai_profile = Profile(true, 0, {"keyCertSign", "cRLSign"});
  auto dac_profile = Profile(false, -1, {"digitalSignature"});
  Bytes paa_der = Certify(paa_profile, {{"CN", "PAA"}, {kVendorIdOid, "FFF1"}},
                          paa_key->public_key(), nullptr, *paa_key);
  auto paa = x509::ParseCertificateDer(paa_der).value();
  Bytes pai_der =
      Certify(pai_profile, {{"CN", "PAI"}, {kVendorIdOid, "FFF1"}, {kProductIdOid, "8000"}},
              pai_key->public_key(), paa.get(), *paa_key);
  auto pai = x509::ParseCertificateDer(pai_der).value();
  auto dac = [&](const x509::CertificateProfile& profile,
                 std::vector<std::pair<std::string, std::string>> name,
                 EVP_PKEY* key) { return Certify(profile, name, key, pai.get(), *pai_key); };
  std::vector<std::pair<std::string, std::string>> dac_name = {
      {"CN", "dev-1"}, {kVendorIdOid, "FFF1"}, {kProductIdOid, "8000"}};

  auto paa_ids = CheckAttestationCertificate(paa_der, AttestationKind::kPaa);
  auto pai_ids = CheckAttestationCertificate(pai_der, AttestationKind::kPai);
  auto dac_ids = CheckAttestationCertificate(dac(dac_profile, dac_name, dac_key->public_key()),
                                             AttestationKind::kDac);
  REQUIRE(paa_ids.has_value());
  REQUIRE(pai_ids.has_value());
  REQUIRE(dac_ids.has_value());
  CHECK(dac_ids->vendor_id == 0xFFF1);
  CHECK(dac_ids->product_id == 0x8000);
  CHECK(CheckAttestationIds(*dac_ids, *pai_ids, *paa_ids).has_value());

  auto refused = [](ByteView der, AttestationKind kind) {
    auto r = CheckAttestationCertificate(der, kind);
    REQUIRE_FALSE(r.has_value());
    return r.error().message();
  };
  auto two_usages = Profile(false, -1, {"digitalSignature", "keyEncipherment"});
  CHECK(refused(dac(two_usages, dac_name, dac_key->public_key()), AttestationKind::kDac)
            .find("exactly digitalSignature") != std::string::npos);
  CHECK(refused(dac(dac_profile, {{"CN", "dev-1"}, {kVendorIdOid, "FFF1"}}, dac_key->public_key()),
                AttestationKind::kDac)
            .find("product id") != std::string::npos);
  CHECK(refused(dac(dac_profile, {{"CN", "dev-1"}, {kVendorIdOid, "fff1"}, {kProductIdOid, "8000"}},
                    dac_key->public_key()),
                AttestationKind::kDac)
            .find("upper-case") != std::string::npos);
  auto p384 = NewSigner("P-384");
  CHECK(refused(dac(dac_profile, dac_name, p384->public_key()), AttestationKind::kDac)
            .find("P-256") != std::string::npos);
  CHECK(refused(dac(pai_profile, dac_name, dac_key->public_key()), AttestationKind::kDac)
            .find("CA false") != std::string::npos);
  CHECK(refused(pai_der, AttestationKind::kDac).find("CA false") != std::string::npos);
  auto pathlen1 = Profile(true, 1, {"keyCertSign", "cRLSign"});
  CHECK(refused(Certify(pathlen1, {{"CN", "PAI"}, {kVendorIdOid, "FFF1"}}, pai_key->public_key(),
                        paa.get(), *paa_key),
                AttestationKind::kPai)
            .find("pathLen must be 0") != std::string::npos);
  auto no_crl_sign = Profile(true, 0, {"keyCertSign"});
  CHECK(refused(Certify(no_crl_sign, {{"CN", "PAI"}, {kVendorIdOid, "FFF1"}}, pai_key->public_key(),
                        paa.get(), *paa_key),
                AttestationKind::kPai)
            .find("keyCertSign and cRLSign") != std::string::npos);
  CHECK(refused(Certify(paa_profile, {{"CN", "PAA"}, {kProductIdOid, "8000"}},
                        paa_key->public_key(), nullptr, *paa_key),
                AttestationKind::kPaa)
            .find("must not carry a product id") != std::string::npos);
  // 600 bytes: a DAC whose subject is padded past it.
  std::vector<std::pair<std::string, std::string>> padded = dac_name;
  for (const char* field : {"O", "OU", "L", "ST", "street"})
    padded.emplace_back(field, std::string(60, 'x'));
  CHECK(refused(dac(dac_profile, padded, dac_key->public_key()), AttestationKind::kDac)
            .find("more than 600") != std::string::npos);

  AttestationIds other_vendor{0xFFF2, 0x8000};
  CHECK_FALSE(CheckAttestationIds(other_vendor, *pai_ids, *paa_ids).has_value());
  AttestationIds other_product{0xFFF1, 0x8001};
  CHECK_FALSE(CheckAttestationIds(other_product, *pai_ids, *paa_ids).has_value());
}

}  // namespace
}  // namespace imprint::matter
