// EST's bodies (ca/est/wire.h): base64 in with RFC 2045 wrapping allowed and nothing else,
// certs-only PKCS #7 out as OpenSSL reads it, and the CSR's one CN.
#include <openssl/pkcs7.h>

#include <catch2/catch.hpp>

#include "ca/est/wire.h"
#include "common/base64.h"
#include "common/x509/csr.h"
#include "common/x509/evp_signer.h"
#include "common/x509/key_policy.h"
#include "tests/common/x509_test_util.h"

namespace imprint::ca::est {
namespace {

Bytes Csr(const std::vector<std::pair<std::string, std::string>>& subject) {
  auto signer = x509::EvpSigner::Create(testing::TestKey("P-256")).value();
  return x509::BuildCsr(*signer, subject).value();
}

TEST_CASE("est wire: bodies are base64, wrapped or not, and nothing else") {
  Bytes csr = Csr({{"CN", "dev-1"}});
  std::string b64 = Base64Encode(csr);
  CHECK(DecodeBody(b64).value() == csr);
  std::string wrapped;
  for (size_t i = 0; i < b64.size(); i += 64) wrapped += b64.substr(i, 64) + "\r\n";
  CHECK(DecodeBody(wrapped).value() == csr);
  for (std::string bad : {std::string(""), std::string("\r\n"), b64 + "!", "MII*" + b64,
                          b64.substr(1), std::string("-----BEGIN CERTIFICATE REQUEST-----")}) {
    INFO(bad.substr(0, 40));
    auto decoded = DecodeBody(bad);
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("est wire: certs-only PKCS #7 as OpenSSL reads it, on one line") {
  auto root_signer = x509::EvpSigner::Create(testing::TestKey("P-256")).value();
  auto root = testing::Issue(testing::RootProfile(), "Root", root_signer->public_key(), nullptr,
                             *root_signer);
  auto leaf_key = testing::TestKey("P-256");
  auto leaf =
      testing::Issue(testing::DeviceProfile(), "dev-1", leaf_key.get(), root.get(), *root_signer);
  std::string body = CertsOnly({leaf.get(), root.get()}).value();
  CHECK(body.find('\n') == std::string::npos);
  Bytes der = Base64Decode(body).value();
  const unsigned char* p = der.data();
  PKCS7* p7 = d2i_PKCS7(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(p7 != nullptr);
  REQUIRE(PKCS7_type_is_signed(p7));
  CHECK(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info) == 0);
  REQUIRE(sk_X509_num(p7->d.sign->cert) == 2);
  CHECK(X509_cmp(sk_X509_value(p7->d.sign->cert, 0), leaf.get()) == 0);
  CHECK(X509_cmp(sk_X509_value(p7->d.sign->cert, 1), root.get()) == 0);
  PKCS7_free(p7);
}

TEST_CASE("est wire: the device id is the CSR's one CN") {
  CHECK(CsrCommonName(Csr({{"CN", "dev-7"}, {"O", "Acme"}})).value() == "dev-7");
  for (const auto& subject : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"O", "Acme"}}, {{"CN", "a"}, {"CN", "b"}}}) {
    auto cn = CsrCommonName(Csr(subject));
    REQUIRE_FALSE(cn);
    CHECK(cn.error().code() == Code::kInvalidArgument);
  }
  Bytes junk{0x30, 0x03, 0x02, 0x01, 0x00};
  CHECK(CsrCommonName(junk).error().code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace imprint::ca::est
