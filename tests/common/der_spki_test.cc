// The strict DER reader and the decoder-free SubjectPublicKeyInfo path, checked against
// OpenSSL's own d2i for the same bytes.

#include <openssl/x509.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "common/x509/csr.h"
#include "common/x509/der.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "common/x509/spki.h"
#include "tests/common/x509_test_util.h"

namespace imprint::x509 {
namespace {

using testing::OpenSslCsr;
using testing::TestKey;

Bytes SpkiOf(EVP_PKEY* key) {
  unsigned char* out = nullptr;
  int len = i2d_PUBKEY(key, &out);
  REQUIRE(len > 0);
  Bytes der(out, out + len);
  OPENSSL_free(out);
  return der;
}

Bytes ReqDer(X509_REQ* req) {
  unsigned char* out = nullptr;
  int len = i2d_X509_REQ(req, &out);
  REQUIRE(len > 0);
  Bytes der(out, out + len);
  OPENSSL_free(out);
  return der;
}

TEST_CASE("der::Reader takes short and long lengths and keeps the whole encoding", "[der]") {
  Bytes input{0x04, 0x02, 0xAA, 0xBB, 0x30, 0x81, 0x80};
  input.resize(input.size() + 0x80, 0x55);
  der::Reader r(input);
  auto first = r.Expect(0x04);
  REQUIRE(first.has_value());
  CHECK(first->content.size() == 2);
  CHECK(first->whole.size() == 4);
  CHECK(r.PeekTag() == 0x30);
  auto second = r.Expect(0x30);
  REQUIRE(second.has_value());
  CHECK(second->content.size() == 0x80);
  CHECK(second->whole.size() == 0x83);
  CHECK(r.empty());
  CHECK(r.PeekTag() == 0);
}

TEST_CASE("der::Reader refuses BER and malformed headers", "[der]") {
  auto refused = [](Bytes input, uint8_t tag) {
    return !der::Reader(input).Expect(tag).has_value();
  };
  CHECK(refused({0x30, 0x80, 0x00, 0x00}, 0x30));           // indefinite length
  CHECK(refused({0x04, 0x81, 0x05, 1, 2, 3, 4, 5}, 0x04));  // long form for a short length
  CHECK(refused({0x04, 0x82, 0x00, 0x81}, 0x04));           // leading zero length octet
  CHECK(refused({0x04, 0x85, 1, 1, 1, 1, 1}, 0x04));        // five length octets
  CHECK(refused({0x04, 0x03, 0x01}, 0x04));                 // content cut short
  CHECK(refused({0x04}, 0x04));                             // header cut short
  CHECK(refused({0x04, 0x00}, 0x30));                       // another tag
  CHECK(refused({0x1f, 0x81, 0x00}, 0x1f));                 // multi-octet tag
  CHECK(der::BitStringOctets(Bytes{0x00, 0xAB})->size() == 1);
  CHECK_FALSE(der::BitStringOctets(Bytes{0x01, 0xAB}).has_value());
  CHECK_FALSE(der::BitStringOctets(Bytes{}).has_value());
}

TEST_CASE("DecodePublicKey gives the key OpenSSL's decoder gives", "[spki]") {
  for (const char* type : {"P-256", "P-384", "RSA-2048", "secp256k1", "ed25519"}) {
    INFO(type);
    auto key = TestKey(type);
    Bytes spki = SpkiOf(key.get());
    auto decoded = DecodePublicKey(spki);
    REQUIRE(decoded.has_value());
    CHECK(EVP_PKEY_eq(decoded->get(), key.get()) == 1);
    auto parts = SplitSpki(spki);
    REQUIRE(parts.has_value());
    CHECK(parts->algorithm.front() == der::kSequence);
    CHECK(parts->key.size() + 1 < spki.size());
  }
}

TEST_CASE("DecodePublicKey refuses an off-curve point, trailing bytes and garbage", "[spki]") {
  auto key = TestKey("P-256");
  Bytes spki = SpkiOf(key.get());
  Bytes off_curve = spki;
  off_curve.back() ^= 0x01;  // last byte of y
  CHECK(DecodePublicKey(off_curve).error().code() == Code::kInvalidArgument);
  Bytes padded = spki;
  padded.push_back(0);
  CHECK_FALSE(DecodePublicKey(padded).has_value());
  CHECK_FALSE(DecodePublicKey(Bytes(91, 0x30)).has_value());
  Bytes cut(spki.begin(), spki.end() - 1);
  CHECK_FALSE(DecodePublicKey(cut).has_value());
}

TEST_CASE("DecodePublicKey on many threads at once gives every thread its own key", "[spki]") {
  // The EC decoder copies a shared per-curve template: no thread may see another's point.
  constexpr int kThreads = 4;
  constexpr int kRounds = 50;
  std::vector<PkeyPtr> keys;
  for (int t = 0; t < kThreads; ++t) keys.push_back(TestKey(t % 2 == 0 ? "P-256" : "P-384"));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Bytes spki = SpkiOf(keys[t].get());
      for (int i = 0; i < kRounds; ++i) {
        auto decoded = DecodePublicKey(spki);
        if (!decoded || EVP_PKEY_eq(decoded->get(), keys[t].get()) != 1) ++mismatches;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(mismatches == 0);
}

TEST_CASE("a CSR whose DER is re-encoded with BER lengths is rejected", "[csr]") {
  Bytes der = OpenSslCsr(TestKey("P-256").get());
  REQUIRE(der[1] == 0x81);  // a P-256 CSR is 128..255 bytes: one long-form length octet
  Bytes ber{0x30, 0x82, 0x00};
  ber.insert(ber.end(), der.begin() + 2, der.end());
  auto csr = ParseAndVerifyCsr(ber);
  REQUIRE_FALSE(csr.has_value());
  CHECK(csr.error().code() == Code::kInvalidArgument);
}

TEST_CASE("a CSR with requested extensions verifies; an RSA-PSS one is refused clearly", "[csr]") {
  auto key = TestKey("P-256");
  X509ReqPtr req(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("dev"), 3, -1, 0);
  REQUIRE(X509_REQ_set_pubkey(req.get(), key.get()) == 1);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_key_usage, "digitalSignature");
  REQUIRE(ext != nullptr);
  sk_X509_EXTENSION_push(exts, ext);
  REQUIRE(X509_REQ_add_extensions(req.get(), exts) == 1);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  REQUIRE(X509_REQ_sign(req.get(), key.get(), EVP_sha256()) > 0);
  auto csr = ParseAndVerifyCsr(ReqDer(req.get()));
  REQUIRE(csr.has_value());
  CHECK(EVP_PKEY_eq(csr->public_key.get(), key.get()) == 1);

  auto rsa = TestKey("RSA-2048");
  X509ReqPtr pss(X509_REQ_new());
  REQUIRE(X509_REQ_set_pubkey(pss.get(), rsa.get()) == 1);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  REQUIRE(EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, rsa.get()) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
  REQUIRE(X509_REQ_sign_ctx(pss.get(), ctx.get()) > 0);
  auto refused = ParseAndVerifyCsr(ReqDer(pss.get()));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message().find("signature algorithm not supported") != std::string::npos);
}

TEST_CASE("a CSR with a garbage subject or a version other than 1 is rejected", "[csr]") {
  Bytes der = OpenSslCsr(TestKey("P-256").get(), "x");
  // CertificationRequestInfo starts at der[3] (one long-form length octet on the outside):
  // SEQUENCE, its length, then INTEGER 0 (02 01 00) and the subject SEQUENCE.
  size_t info = der[1] == 0x81 ? 3 : 2;
  size_t info_body = info + (der[info + 1] == 0x81 ? 3 : 2);
  REQUIRE(der[info_body] == 0x02);
  Bytes version = der;
  version[info_body + 2] = 0x01;
  CHECK(ParseAndVerifyCsr(version).error().message().find("version") != std::string::npos);
  Bytes subject = der;
  REQUIRE(subject[info_body + 3] == 0x30);
  subject[info_body + 5] = 0x04;  // the first RDN SET becomes an OCTET STRING
  CHECK(ParseAndVerifyCsr(subject).error().message().find("subject") != std::string::npos);
}

TEST_CASE("a certificate's PEM holds its DER unchanged and malformed DER is refused", "[der]") {
  auto signer = EvpSigner::Create(TestKey("P-256")).value();
  X509Ptr cert =
      testing::Issue(testing::RootProfile(), "PEM Root", signer->public_key(), nullptr, *signer);
  Bytes der = CertificateToDer(cert.get()).value();
  auto pem = CertificateDerToPem(der);
  REQUIRE(pem.has_value());
  CHECK(*pem == testing::ToPem(cert.get()));  // what PEM_write_bio_X509 writes
  auto back = ParseCertificatePem(*pem);
  REQUIRE(back.has_value());
  CHECK(CertificateToDer(back->get()).value() == der);

  Bytes trailing = der;
  trailing.push_back(0);
  Bytes truncated(der.begin(), der.end() - 1);
  Bytes two_fields = {0x30, 0x06, 0x30, 0x00, 0x30, 0x00, 0x05, 0x00};
  for (const Bytes& bad : {trailing, truncated, two_fields, Bytes{}}) {
    auto refused = CertificateDerToPem(bad);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code() == Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace imprint::x509
