// The evidence verdicts on made-up facts: each provision's PASS needs its facts, and each way
// the facts can be bad (a copied verifier, an extractable key, a broken audit chain, a weak
// password setting, a shared device key) turns exactly the provisions resting on it to FAIL.

#include <catch2/catch.hpp>

#include "ca/handover/evidence.h"

namespace imprint::ca {
namespace {

EvidenceFacts GoodFacts() {
  EvidenceFacts f;
  f.order_id = "PO-1";
  f.devices = f.verified = 100;
  f.password_alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012";
  f.password_length = 14;
  f.password_entropy_bits = 80.9;
  f.password_source = "C_GenerateRandom of PKCS#11 token pkcs11:token=t";
  f.password_verifiers = f.distinct_password_verifiers = f.devices_with_password = 100;
  f.distinct_device_keys = 100;
  f.certificates_issued = 100;
  f.device_key_types = {{"EC P-256", 100}};
  for (const char* label : {"imprint-root", "imprint-issuing", "imprint-audit"}) {
    f.ca_keys.push_back({label, "EC P-256", true, false, true, true});
  }
  f.ca_signature_algorithm = "ecdsa-with-SHA256";
  f.audit_verified = true;
  f.audit_records = 300;
  return f;
}

std::map<std::string, std::string> Verdicts(const EvidenceFacts& f) {
  std::map<std::string, std::string> out;
  for (const Verdict& v : Assess(f)) out[v.id] = v.verdict;
  return out;
}

std::string Overall(const EvidenceFacts& f) { return EvidenceJson(f, Assess(f))["verdict"]; }

TEST_CASE("good facts pass every provision", "[evidence]") {
  auto v = Verdicts(GoodFacts());
  CHECK(v == std::map<std::string, std::string>{{"5.1-1", "PASS"},
                                                {"5.1-2", "PASS"},
                                                {"5.4-1", "PASS"},
                                                {"5.4-3", "PASS"},
                                                {"5.4-4", "PASS"},
                                                {"5.5-1", "PASS"},
                                                {"5.5-8", "PASS"}});
  CHECK(Overall(GoodFacts()) == "PASS");
  auto json = EvidenceJson(GoodFacts(), Assess(GoodFacts()));
  for (const auto& m : json["en18031_1"]) CHECK(m["verdict"] == "PASS");
}

TEST_CASE("each bad fact fails the provisions that rest on it", "[evidence]") {
  SECTION("a copied password verifier") {
    EvidenceFacts f = GoodFacts();
    f.distinct_password_verifiers = 99;
    CHECK(Verdicts(f)["5.1-1"] == "FAIL");
    CHECK(Verdicts(f)["5.4-3"] == "FAIL");
    CHECK(Verdicts(f)["5.5-8"] == "PASS");
    CHECK(Overall(f) == "FAIL");
  }
  SECTION("a device without a password") {
    EvidenceFacts f = GoodFacts();
    f.devices_with_password = f.password_verifiers = f.distinct_password_verifiers = 99;
    CHECK(Verdicts(f)["5.1-1"] == "FAIL");
  }
  SECTION("an extractable CA key") {
    EvidenceFacts f = GoodFacts();
    f.ca_keys[1].extractable = true;
    CHECK(Verdicts(f)["5.4-1"] == "FAIL");
    CHECK(Verdicts(f)["5.5-8"] == "FAIL");
    CHECK(Verdicts(f)["5.1-1"] == "PASS");
    auto json = EvidenceJson(f, Assess(f));
    CHECK(json["en18031_1"][1]["verdict"] == "FAIL");  // SSM
  }
  SECTION("a key that was once not sensitive") {
    EvidenceFacts f = GoodFacts();
    f.ca_keys[0].always_sensitive = false;
    CHECK(Verdicts(f)["5.4-1"] == "FAIL");
  }
  SECTION("a broken audit chain") {
    EvidenceFacts f = GoodFacts();
    f.audit_verified = false;
    f.audit_error = "record 7: hash mismatch";
    CHECK(Verdicts(f)["5.5-8"] == "FAIL");
    CHECK(Overall(f) == "FAIL");
  }
  SECTION("passwords too short or not from the token") {
    EvidenceFacts f = GoodFacts();
    f.password_entropy_bits = 40;
    CHECK(Verdicts(f)["5.1-2"] == "FAIL");
    f = GoodFacts();
    f.password_source = "std::rand";
    CHECK(Verdicts(f)["5.1-2"] == "FAIL");
  }
  SECTION("two devices sharing a key") {
    EvidenceFacts f = GoodFacts();
    f.distinct_device_keys = 99;
    CHECK(Verdicts(f)["5.4-3"] == "FAIL");
    CHECK(Verdicts(f)["5.4-4"] == "FAIL");
  }
  SECTION("a weak CA key or a device key the policy refuses") {
    EvidenceFacts f = GoodFacts();
    f.ca_keys[1].type = "RSA 2048";
    CHECK(Verdicts(f)["5.5-1"] == "FAIL");
    f = GoodFacts();
    f.device_key_types["refused by the key policy"] = 1;
    CHECK(Verdicts(f)["5.5-1"] == "FAIL");
  }
  SECTION("an order without passwords or devices") {
    EvidenceFacts f = GoodFacts();
    f.password_verifiers = f.distinct_password_verifiers = f.devices_with_password = 0;
    CHECK(Verdicts(f)["5.1-1"] == "N/A");
    CHECK(Verdicts(f)["5.1-2"] == "N/A");
    CHECK(Overall(f) == "PASS");
    f.devices = f.distinct_device_keys = f.certificates_issued = 0;
    f.device_key_types.clear();
    CHECK(Verdicts(f)["5.4-4"] == "N/A");
  }
}

TEST_CASE("the HTML is escaped and self-contained", "[evidence]") {
  EvidenceFacts f = GoodFacts();
  f.product = "<script>alert(1)</script>";
  f.audit_verified = false;
  f.audit_error = "\"><img src=x>";
  std::string html = EvidenceHtml(EvidenceJson(f, Assess(f)));
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("&lt;script&gt;") != std::string::npos);
  CHECK(html.find("<td class=\"fail\">FAIL</td>") != std::string::npos);
}

}  // namespace
}  // namespace imprint::ca
