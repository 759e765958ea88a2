// Certificates signed through SoftHSM, checked by tools nobody here wrote: `openssl verify
// -x509_strict` and GnuTLS `certtool --verify`.

#include <catch2/catch.hpp>

#include "common/pkcs11/keygen.h"
#include "common/pkcs11/signer.h"
#include "common/x509/chain.h"
#include "common/x509/csr.h"
#include "common/x509/evp_signer.h"
#include "tests/common/x509_test_util.h"
#include "tests/support/softhsm_token.h"

namespace imprint {
namespace {

using testing::DeviceProfile;
using testing::Issue;
using testing::IssuingProfile;
using testing::RootProfile;
using testing::RunCommand;
using testing::SoftHsmToken;
using testing::ToPem;
using testing::WriteFile;

struct HsmHierarchy {
  explicit HsmHierarchy(p11::KeyType type) {
    {
      auto lease = pool->Acquire();
      REQUIRE(p11::GenerateKeyPair(*lease, type, "root", Bytes{1}).has_value());
      REQUIRE(p11::GenerateKeyPair(*lease, type, "issuing", Bytes{2}).has_value());
    }
    root_signer = p11::Pkcs11Signer::Create(*pool, p11::ObjectRef{"root", std::nullopt}).value();
    issuing_signer =
        p11::Pkcs11Signer::Create(*pool, p11::ObjectRef{"issuing", std::nullopt}).value();
    root = Issue(RootProfile(), "HSM Root", root_signer->public_key(), nullptr, *root_signer);
    issuing = Issue(IssuingProfile(), "HSM Issuing", issuing_signer->public_key(), root.get(),
                    *root_signer);
  }

  SoftHsmToken token;
  std::unique_ptr<p11::SessionPool> pool = token.OpenPool(2);
  std::unique_ptr<p11::Pkcs11Signer> root_signer;
  std::unique_ptr<p11::Pkcs11Signer> issuing_signer;
  x509::X509Ptr root;
  x509::X509Ptr issuing;
};

// Issues a device certificate from a CSR made on the "device" (an in-memory key).
x509::X509Ptr IssueFromCsr(HsmHierarchy& h, const char* device_key_type) {
  auto device = x509::EvpSigner::Create(testing::TestKey(device_key_type)).value();
  Bytes csr_der = x509::BuildCsr(*device, {{"CN", "ignored-by-the-ca"}}).value();
  auto csr = x509::ParseAndVerifyCsr(csr_der);
  REQUIRE(csr.has_value());
  return Issue(DeviceProfile(), "dev-0001", csr->public_key.get(), h.issuing.get(),
               *h.issuing_signer, {"urn:imprint:device:dev-0001"});
}

void ExpectToolsAccept(const testing::TempDir& dir, const X509* root, const X509* issuing,
                       const X509* leaf) {
  WriteFile(dir / "root.pem", ToPem(root));
  WriteFile(dir / "issuing.pem", ToPem(issuing));
  WriteFile(dir / "leaf.pem", ToPem(leaf));
  WriteFile(dir / "chain.pem", ToPem(leaf) + ToPem(issuing));
  std::string out;
  int rc = RunCommand("openssl verify -x509_strict -purpose sslclient -CAfile " +
                          (dir / "root.pem").string() + " -untrusted " +
                          (dir / "issuing.pem").string() + " " + (dir / "leaf.pem").string(),
                      &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find(": OK") != std::string::npos);
  rc = RunCommand("certtool --verify --load-ca-certificate " + (dir / "root.pem").string() +
                      " --infile " + (dir / "chain.pem").string(),
                  &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("Chain verification output: Verified") != std::string::npos);
}

TEST_CASE("certificates signed in SoftHSM pass openssl verify and certtool", "[hsm-cert]") {
  auto [ca_type, device_type] =
      GENERATE(table<p11::KeyType, const char*>({{p11::KeyType::kEcP256, "P-256"},
                                                 {p11::KeyType::kEcP384, "P-384"},
                                                 {p11::KeyType::kRsa3072, "P-256"}}));
  INFO("CA key " << p11::KeyTypeName(ca_type) << ", device key " << device_type);
  HsmHierarchy h(ca_type);
  x509::X509Ptr leaf = IssueFromCsr(h, device_type);

  std::vector<X509*> intermediates{h.issuing.get()};
  CHECK(x509::VerifyChain(leaf.get(), intermediates, h.root.get()).has_value());
  ExpectToolsAccept(h.token.dir(), h.root.get(), h.issuing.get(), leaf.get());

  // The subject comes from the profile, not from the CSR.
  X509_NAME* subject = X509_get_subject_name(leaf.get());
  char cn[64] = {};
  X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof(cn));
  CHECK(std::string(cn) == "dev-0001");
}

TEST_CASE("a tampered HSM-signed certificate fails openssl verify and certtool", "[hsm-cert]") {
  HsmHierarchy h(p11::KeyType::kEcP256);
  x509::X509Ptr leaf = IssueFromCsr(h, "P-256");
  unsigned char* der = nullptr;
  int len = i2d_X509(leaf.get(), &der);
  Bytes bytes(der, der + len);
  OPENSSL_free(der);
  bytes[bytes.size() - 3] ^= 0x01;  // inside the signature
  const unsigned char* p = bytes.data();
  x509::X509Ptr tampered(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
  REQUIRE(tampered);

  const auto& dir = h.token.dir();
  WriteFile(dir / "root.pem", ToPem(h.root.get()));
  WriteFile(dir / "issuing.pem", ToPem(h.issuing.get()));
  WriteFile(dir / "leaf.pem", ToPem(tampered.get()));
  WriteFile(dir / "chain.pem", ToPem(tampered.get()) + ToPem(h.issuing.get()));
  CHECK(RunCommand("openssl verify -x509_strict -CAfile " + (dir / "root.pem").string() +
                   " -untrusted " + (dir / "issuing.pem").string() + " " +
                   (dir / "leaf.pem").string()) != 0);
  std::string out;
  RunCommand("certtool --verify --load-ca-certificate " + (dir / "root.pem").string() +
                 " --infile " + (dir / "chain.pem").string(),
             &out);
  CHECK(out.find("Chain verification output: Verified") == std::string::npos);
  std::vector<X509*> intermediates{h.issuing.get()};
  CHECK_FALSE(x509::VerifyChain(tampered.get(), intermediates, h.root.get()).has_value());
}

}  // namespace
}  // namespace imprint
