#include "common/x509/csr.h"

#include <openssl/pem.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "common/x509/evp_signer.h"
#include "tests/common/x509_test_util.h"

namespace imprint::x509 {
namespace {

using testing::OpenSslCsr;
using testing::TestKey;

Error Rejected(const Bytes& der) {
  auto csr = ParseAndVerifyCsr(der);
  REQUIRE_FALSE(csr.has_value());
  return csr.error();
}

TEST_CASE("CSRs for P-256, P-384 and RSA-2048 keys verify and keep their key", "[csr]") {
  for (const char* type : {"P-256", "P-384", "RSA-2048"}) {
    INFO(type);
    auto key = TestKey(type);
    auto csr = ParseAndVerifyCsr(OpenSslCsr(key.get()));
    REQUIRE(csr.has_value());
    CHECK(EVP_PKEY_eq(csr->public_key.get(), key.get()) == 1);
  }
}

TEST_CASE("one EC key has one encoding: compressed points expand, explicit curves are refused",
          "[csr]") {
  for (const char* type : {"P-256", "P-384"}) {
    INFO(type);
    auto key = TestKey(type);
    auto named = ParseAndVerifyCsr(OpenSslCsr(key.get()));
    REQUIRE(named.has_value());
    auto compressed_key = testing::ReencodedEcKey(key.get(), "compressed");
    Bytes compressed_csr = OpenSslCsr(compressed_key.get());
    auto compressed = ParseAndVerifyCsr(compressed_csr);
    REQUIRE(compressed.has_value());
    // The request really did carry the short form, and the result is byte-identical to the
    // named, uncompressed encoding OpenSSL itself writes.
    CHECK(compressed_csr.size() < OpenSslCsr(key.get()).size());
    CHECK(compressed->spki_der == named->spki_der);
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(key.get(), &der);
    REQUIRE(len > 0);
    CHECK(Bytes(der, der + len) == named->spki_der);
    OPENSSL_free(der);

    auto explicit_key = testing::ReencodedEcKey(key.get(), "explicit");
    Error refused = Rejected(OpenSslCsr(explicit_key.get()));
    CHECK(refused.code() == Code::kInvalidArgument);
    CHECK(refused.message().find("explicit parameters") != std::string::npos);
  }
}

TEST_CASE("a CSR built through a Signer verifies, in DER and in PEM", "[csr]") {
  auto signer = EvpSigner::Create(TestKey("P-256"));
  REQUIRE(signer.has_value());
  auto der = BuildCsr(**signer, {{"CN", "dev-0001"}, {"serialNumber", "dev-0001"}});
  REQUIRE(der.has_value());
  auto csr = ParseAndVerifyCsr(*der);
  REQUIRE(csr.has_value());
  CHECK(csr->key_info.kind == KeyKind::kEcP256);

  const unsigned char* p = der->data();
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size())));
  BioPtr bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509_REQ(bio.get(), req.get()) == 1);
  char* pem = nullptr;
  long len = BIO_get_mem_data(bio.get(), &pem);
  CHECK(ParseAndVerifyCsrPem(std::string_view(pem, static_cast<size_t>(len))).has_value());
}

TEST_CASE("a CSR with a wrong signature is rejected", "[csr]") {
  Bytes der = OpenSslCsr(TestKey("P-256").get());
  der[der.size() - 5] ^= 0x01;  // inside the signature's s value
  Error e = Rejected(der);
  CHECK(e.code() == Code::kInvalidArgument);
}

TEST_CASE("a CSR signed by another key fails proof of possession", "[csr]") {
  auto key = TestKey("P-256");
  auto other = TestKey("P-256");
  X509ReqPtr req(X509_REQ_new());
  REQUIRE(X509_REQ_set_pubkey(req.get(), key.get()) == 1);
  REQUIRE(X509_REQ_sign(req.get(), other.get(), EVP_sha256()) > 0);
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  Bytes bytes(der, der + len);
  OPENSSL_free(der);
  CHECK(Rejected(bytes).message().find("signature") != std::string::npos);
}

TEST_CASE("weak or unsupported CSR keys are rejected with a clear message", "[csr]") {
  CHECK(Rejected(OpenSslCsr(TestKey("RSA-1024").get())).message().find("1024") !=
        std::string::npos);
  CHECK(Rejected(OpenSslCsr(TestKey("secp256k1").get())).message().find("curve") !=
        std::string::npos);
  CHECK(Rejected(OpenSslCsr(TestKey("ed25519").get())).code() == Code::kInvalidArgument);
}

TEST_CASE("a CSR whose EC point is not on the curve is rejected", "[csr]") {
  auto key = TestKey("P-256");
  Bytes der = OpenSslCsr(key.get());
  unsigned char point[65];
  REQUIRE(EVP_PKEY_get_octet_string_param(key.get(), "encoded-pub-key", point, sizeof(point),
                                          nullptr) == 1);
  auto at = std::search(der.begin(), der.end(), std::begin(point), std::end(point));
  REQUIRE(at != der.end());
  *(at + 64) ^= 0x01;  // last byte of y: the point leaves the curve
  Error e = Rejected(der);
  CHECK(e.code() == Code::kInvalidArgument);
}

TEST_CASE("truncated, garbage, empty, padded and oversized CSRs are rejected", "[csr]") {
  Bytes der = OpenSslCsr(TestKey("P-256").get());
  for (size_t cut : {size_t{1}, size_t{10}, der.size() / 2, der.size() - 1}) {
    CHECK(Rejected(Bytes(der.begin(), der.begin() + static_cast<long>(cut))).code() ==
          Code::kInvalidArgument);
  }
  CHECK(Rejected(Bytes(300, 0x41)).code() == Code::kInvalidArgument);
  CHECK(Rejected(Bytes()).code() == Code::kInvalidArgument);
  Bytes padded = der;
  padded.push_back(0);
  CHECK(Rejected(padded).message().find("trailing") != std::string::npos);
  CHECK(Rejected(Bytes(kMaxCsrBytes + 1, 0x30)).message().find("too large") != std::string::npos);
}

TEST_CASE("a CSR with an oversized subject is rejected before parsing", "[csr]") {
  auto key = TestKey("P-256");
  X509ReqPtr req(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  std::string unit(60, 'A');  // ub-organizational-unit-name is 64; many RDNs make it huge
  for (int i = 0; i < 300; ++i) {
    REQUIRE(X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(unit.data()),
                                       static_cast<int>(unit.size()), -1, 0) == 1);
  }
  REQUIRE(X509_REQ_set_pubkey(req.get(), key.get()) == 1);
  REQUIRE(X509_REQ_sign(req.get(), key.get(), EVP_sha256()) > 0);
  unsigned char* out = nullptr;
  int len = i2d_X509_REQ(req.get(), &out);
  Bytes der(out, out + len);
  OPENSSL_free(out);
  REQUIRE(der.size() > kMaxCsrBytes);
  CHECK(Rejected(der).message().find("too large") != std::string::npos);
}

}  // namespace
}  // namespace imprint::x509
