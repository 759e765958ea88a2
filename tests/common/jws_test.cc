// Base64url and JWS: round trips for every key type imprint signs with, and the ways a JWS
// can be wrong (tampered payload, swapped header, truncated signature, alg "none", wrong key).

#include "common/jose/jws.h"

#include <catch2/catch.hpp>

#include "common/base64.h"
#include "common/x509/evp_signer.h"

namespace imprint {
namespace {

std::string Text(const Bytes& b) { return std::string(b.begin(), b.end()); }

TEST_CASE("base64url is unpadded RFC 4648 section 5 and refuses anything else", "[jws]") {
  CHECK(Base64UrlEncode(AsBytes("")) == "");
  CHECK(Base64UrlEncode(AsBytes("f")) == "Zg");
  CHECK(Base64UrlEncode(AsBytes("foob")) == "Zm9vYg");
  Bytes high{0xfb, 0xff, 0xfe};
  CHECK(Base64UrlEncode(high) == "-__-");
  CHECK(Base64Encode(high) == "+//+");
  CHECK(Base64UrlDecode("-__-").value() == high);
  CHECK(Text(Base64UrlDecode("Zm9vYg").value()) == "foob");
  CHECK_FALSE(Base64UrlDecode("Zm9vYg==").has_value());  // padding
  CHECK_FALSE(Base64UrlDecode("+//+").has_value());      // the standard alphabet
  CHECK_FALSE(Base64UrlDecode("Z").has_value());         // impossible length
  CHECK_FALSE(Base64UrlDecode("Zm9v Yg").has_value());
  CHECK_FALSE(Base64Decode("Zg=a").has_value());
  CHECK_FALSE(Base64Decode("Z=g=").has_value());
  CHECK(Text(Base64Decode("Zm9vYg==").value()) == "foob");
}

TEST_CASE("a JWS round-trips for each key type and any change fails it", "[jws]") {
  for (const char* type : {"P-256", "P-384", "RSA-3072"}) {
    INFO(type);
    auto signer = x509::EvpSigner::Create(x509::GenerateKey(type).value()).value();
    jose::JwsSigner jws(*signer, {{"kid", "k1"}});
    auto entry = jws.Sign(R"({"uniqueId":"dev-1"})", {{"uniqueId", "dev-1"}}).value();
    CHECK(entry["header"]["uniqueId"] == "dev-1");
    auto verified = jose::VerifyJws(entry, signer->public_key());
    REQUIRE(verified.has_value());
    CHECK(verified->payload == R"({"uniqueId":"dev-1"})");
    CHECK(verified->header["kid"] == "k1");
    std::string alg = verified->header["alg"];
    CHECK(alg == (std::string(type) == "P-256"   ? "ES256"
                  : std::string(type) == "P-384" ? "ES384"
                                                 : "RS256"));
    if (alg == "ES256") {
      CHECK(Base64UrlDecode(entry["signature"].get<std::string>())->size() == 64);  // r || s
    }

    nlohmann::json bad = entry;
    bad["payload"] = Base64UrlEncode(AsBytes(R"({"uniqueId":"dev-2"})"));
    CHECK(jose::VerifyJws(bad, signer->public_key()).error().code() == Code::kDataLoss);
    bad = entry;
    std::string sig = bad["signature"];
    bad["signature"] = sig.substr(0, sig.size() - 4);
    CHECK_FALSE(jose::VerifyJws(bad, signer->public_key()).has_value());
    bad = entry;
    bad["protected"] = Base64UrlEncode(AsBytes(R"({"alg":"none"})"));
    CHECK(jose::VerifyJws(bad, signer->public_key()).error().code() == Code::kInvalidArgument);
    bad = entry;
    bad.erase("signature");
    CHECK(jose::VerifyJws(bad, signer->public_key()).error().code() == Code::kInvalidArgument);

    auto other = x509::EvpSigner::Create(x509::GenerateKey(type).value()).value();
    CHECK_FALSE(jose::VerifyJws(entry, other->public_key()).has_value());
  }
}

TEST_CASE("public JWKs carry the key's own coordinates", "[jws]") {
  auto ec = x509::GenerateKey("P-256").value();
  auto jwk = jose::PublicJwk(ec.get()).value();
  CHECK(jwk["kty"] == "EC");
  CHECK(jwk["crv"] == "P-256");
  CHECK(Base64UrlDecode(jwk["x"].get<std::string>())->size() == 32);
  CHECK(Base64UrlDecode(jwk["y"].get<std::string>())->size() == 32);
  CHECK(jwk != jose::PublicJwk(x509::GenerateKey("P-256").value().get()).value());
  auto p384 = jose::PublicJwk(x509::GenerateKey("P-384").value().get()).value();
  CHECK(p384["crv"] == "P-384");
  CHECK(Base64UrlDecode(p384["x"].get<std::string>())->size() == 48);
  auto rsa = jose::PublicJwk(x509::GenerateKey("RSA-3072").value().get()).value();
  CHECK(rsa["kty"] == "RSA");
  CHECK(rsa["e"] == "AQAB");
  CHECK(Base64UrlDecode(rsa["n"].get<std::string>())->size() == 384);
}

}  // namespace
}  // namespace imprint
