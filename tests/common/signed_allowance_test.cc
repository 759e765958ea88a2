// The signed allowance's checks (common/offline): a JWS is taken only from the root's document
// signer (issued by the root itself, not a CA, id-kp-documentSigning), with the right typ and an
// untouched payload whose fields are all there.

#include "common/offline/signed_allowance.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/jose/jws.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/common/x509_test_util.h"

namespace imprint::testing {
namespace {

struct Hierarchy {
  x509::PkeyPtr root_key = TestKey("P-256");
  std::unique_ptr<x509::EvpSigner> root_signer =
      x509::EvpSigner::Create(x509::ShareKey(root_key.get())).value();
  x509::X509Ptr root = Issue(RootProfile(), "Root", root_key.get(), nullptr, *root_signer);
  x509::PkeyPtr issuing_key = TestKey("P-256");
  std::unique_ptr<x509::EvpSigner> issuing_signer =
      x509::EvpSigner::Create(x509::ShareKey(issuing_key.get())).value();
  x509::X509Ptr issuing =
      Issue(IssuingProfile(), "Issuing", issuing_key.get(), root.get(), *root_signer);

  // A signer key and its certificate from `issuer`, with `profile`.
  struct Signer {
    x509::PkeyPtr key;
    x509::X509Ptr cert;
  };
  Signer Make(const x509::CertificateProfile& profile, const X509* issuer,
              x509::Signer& issuer_signer) const {
    Signer s{TestKey("P-256"), nullptr};
    s.cert = Issue(profile, "Signer", s.key.get(), issuer, issuer_signer);
    return s;
  }
};

x509::CertificateProfile DocumentSigner() {
  x509::CertificateProfile p;
  p.key_usage = {"digitalSignature"};
  p.extended_key_usage = {"1.3.6.1.5.5.7.3.36"};
  return p;
}

offline::SignedAllowance Sample() {
  offline::OfflineProfile profile{"Acme Devices",
                                  "urn:imprint:device:",
                                  {"digitalSignature"},
                                  {"clientAuth"},
                                  "http://ca.example/crl",
                                  "",
                                  14};
  return {std::string(32, 'a'), "PO-1", "cm-line-3", 200, 1000, 2000, "7f01",
          Bytes(32, 0x11),      profile};
}

std::string Sign(const Hierarchy::Signer& s, X509* root, const std::string& payload,
                 const std::string& typ = offline::kAllowanceJwsType) {
  auto evp = x509::EvpSigner::Create(x509::ShareKey(s.key.get())).value();
  nlohmann::json x5c =
      nlohmann::json::array({Base64Encode(x509::CertificateToDer(s.cert.get()).value()),
                             Base64Encode(x509::CertificateToDer(root).value())});
  jose::JwsSigner jws(*evp, {{"typ", typ}, {"x5c", x5c}});
  return jws.Sign(payload).value().dump();
}

TEST_CASE("a signed allowance from the root's document signer reads back", "[allowance]") {
  Hierarchy h;
  auto signer = h.Make(DocumentSigner(), h.root.get(), *h.root_signer);
  auto read = offline::VerifySignedAllowance(
      Sign(signer, h.root.get(), offline::AllowancePayload(Sample())), h.root.get());
  REQUIRE(read.has_value());
  CHECK(read->id == std::string(32, 'a'));
  CHECK(read->order == "PO-1");
  CHECK(read->station == "cm-line-3");
  CHECK(read->count == 200);
  CHECK(read->not_after_ms == 2000);
  CHECK(read->subordinate_serial == "7f01");
  CHECK(read->subordinate_spki_sha256 == Bytes(32, 0x11));
  CHECK(read->profile.organization == "Acme Devices");
  CHECK(read->profile.extended_key_usage == std::vector<std::string>{"clientAuth"});
  CHECK(read->profile.crl_url == "http://ca.example/crl");
  CHECK(read->profile.crl_issuer.empty());  // from a CA before the offline CRL

  // The indirect CRL's issuer, when the CA names one.
  offline::SignedAllowance named = Sample();
  named.profile.crl_issuer =
      x509::ToDer(i2d_X509_NAME, X509_get_subject_name(h.issuing.get())).value();
  auto with_issuer = offline::VerifySignedAllowance(
      Sign(signer, h.root.get(), offline::AllowancePayload(named)), h.root.get());
  REQUIRE(with_issuer.has_value());
  CHECK(with_issuer->profile.crl_issuer == named.profile.crl_issuer);
}

TEST_CASE("a signed allowance from anyone else, or edited, or incomplete is refused",
          "[allowance]") {
  Hierarchy h;
  std::string payload = offline::AllowancePayload(Sample());
  auto refused = [&](const std::string& jws, const std::string& says) {
    auto read = offline::VerifySignedAllowance(jws, h.root.get());
    REQUIRE_FALSE(read.has_value());
    INFO(read.error().ToString());
    CHECK(read.error().message().find(says) != std::string::npos);
  };
  // A key the issuing CA certified (a station's or a device's), even with documentSigning.
  auto below = h.Make(DocumentSigner(), h.issuing.get(), *h.issuing_signer);
  refused(Sign(below, h.root.get(), payload), "not the root's document signer");
  // The root's certificate without documentSigning, and a CA.
  x509::CertificateProfile plain = DocumentSigner();
  plain.extended_key_usage = {"clientAuth"};
  refused(Sign(h.Make(plain, h.root.get(), *h.root_signer), h.root.get(), payload),
          "not the root's document signer");
  x509::CertificateProfile ca = DocumentSigner();
  ca.is_ca = true;
  ca.key_usage = {"keyCertSign", "digitalSignature"};
  refused(Sign(h.Make(ca, h.root.get(), *h.root_signer), h.root.get(), payload),
          "not the root's document signer");

  auto good = h.Make(DocumentSigner(), h.root.get(), *h.root_signer);
  refused(Sign(good, h.root.get(), payload, "JWT"), "typ is not imprint-allowance+jws");
  // The count raised after signing.
  auto edited = nlohmann::json::parse(Sign(good, h.root.get(), payload));
  std::string text = payload;
  text.replace(text.find("\"count\":200"), 11, "\"count\":900");
  edited["payload"] = Base64UrlEncode(AsBytes(text));
  auto read = offline::VerifySignedAllowance(edited.dump(), h.root.get());
  REQUIRE_FALSE(read.has_value());
  CHECK(read.error().code() == Code::kDataLoss);
  // Signed, but a field missing, or a count of nothing.
  auto without = nlohmann::json::parse(payload);
  without.erase("not_after_ms");
  refused(Sign(good, h.root.get(), without.dump()), "not_after_ms missing");
  offline::SignedAllowance zero = Sample();
  zero.count = 0;
  refused(Sign(good, h.root.get(), offline::AllowancePayload(zero)), "count or validity");
  refused("{\"payload\":", "not a JSON object");
  // A CRL issuer that is not a Name, or without the URL it belongs to.
  auto issuer = nlohmann::json::parse(payload);
  issuer["device_profile"]["crl_issuer"] = Base64Encode(Bytes{0x30, 0x03, 0x01});
  refused(Sign(good, h.root.get(), issuer.dump()), "crl_issuer is not a base64 DER Name");
  issuer["device_profile"]["crl_issuer"] = 7;
  refused(Sign(good, h.root.get(), issuer.dump()), "crl_issuer is not a base64 DER Name");
  issuer["device_profile"]["crl_issuer"] =
      Base64Encode(x509::ToDer(i2d_X509_NAME, X509_get_subject_name(h.issuing.get())).value());
  issuer["device_profile"]["crl_url"] = "";
  refused(Sign(good, h.root.get(), issuer.dump()), "crl_issuer without crl_url");
}

}  // namespace
}  // namespace imprint::testing
