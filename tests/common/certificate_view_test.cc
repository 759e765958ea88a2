// ReadCertificate against d2i_X509 (OpenSSL's reading, which nobody here wrote): the same fields
// from the same certificates, and never a certificate OpenSSL would refuse.

#include "common/x509/certificate_view.h"

#include <openssl/err.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <ctime>
#include <vector>

#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "common/x509/signed_der.h"
#include "common/x509/signer.h"
#include "common/x509/spki.h"
#include "tests/common/x509_test_util.h"

namespace imprint::testing {
namespace {

time_t Seconds(const ASN1_TIME* time) {
  struct tm tm = {};
  REQUIRE(ASN1_TIME_to_tm(time, &tm) == 1);
  return timegm(&tm);
}

bool OpenSslReads(ByteView der) {
  const unsigned char* p = der.data();
  x509::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  bool read = cert != nullptr && p == der.data() + der.size();
  ERR_clear_error();
  return read;
}

TEST_CASE("ReadCertificate finds what OpenSSL finds in a certificate", "[certificate_view]") {
  auto root_signer = x509::EvpSigner::Create(TestKey("P-256")).value();
  x509::X509Ptr root =
      Issue(RootProfile(), "Test Root", root_signer->public_key(), nullptr, *root_signer);
  x509::PkeyPtr ec = TestKey("P-256"), rsa = TestKey("RSA-2048");
  x509::CertificateProfile device = DeviceProfile();
  device.crl_url = "http://pki.example/crl/offline.crl";
  device.crl_issuer_der = x509::ToDer(i2d_X509_NAME, X509_get_subject_name(root.get())).value();
  std::vector<x509::X509Ptr> certs;
  certs.push_back(Issue(device, "dev-ec", ec.get(), root.get(), *root_signer, {"urn:dev:1"}));
  certs.push_back(Issue(DeviceProfile(), "dev-rsa", rsa.get(), root.get(), *root_signer));
  certs.push_back(std::move(root));
  for (const auto& owned : certs) {
    const X509* cert = owned.get();
    Bytes der = x509::CertificateToDer(cert).value();
    auto view = x509::ReadCertificate(der);
    REQUIRE(view.has_value());
    CHECK(HexEncode(view->serial) == x509::SerialHex(cert).value());
    CHECK(view->not_before.time_since_epoch().count() == Seconds(X509_get0_notBefore(cert)));
    CHECK(view->not_after.time_since_epoch().count() == Seconds(X509_get0_notAfter(cert)));
    CHECK(Bytes(view->issuer.begin(), view->issuer.end()) ==
          x509::ToDer(i2d_X509_NAME, X509_get_issuer_name(cert)).value());
    CHECK(Bytes(view->subject.begin(), view->subject.end()) ==
          x509::ToDer(i2d_X509_NAME, X509_get_subject_name(cert)).value());
    auto spki = x509::CertificateSpki(der).value();
    CHECK(Bytes(view->spki.begin(), view->spki.end()) == Bytes(spki.begin(), spki.end()));
    // The TBS and signature are what the issuer signed.
    CHECK(x509::VerifySignature(root_signer->public_key(), root_signer->algorithm(), view->tbs,
                                view->signature)
              .has_value());
  }
}

TEST_CASE("ReadCertificate refuses what OpenSSL refuses, and more", "[certificate_view]") {
  auto signer = x509::EvpSigner::Create(TestKey("P-256")).value();
  x509::X509Ptr root = Issue(RootProfile(), "Test Root", signer->public_key(), nullptr, *signer);
  x509::PkeyPtr key = TestKey("P-256");
  x509::X509Ptr cert = Issue(DeviceProfile(), "dev-1", key.get(), root.get(), *signer);
  Bytes der = x509::CertificateToDer(cert.get()).value();
  REQUIRE(x509::ReadCertificate(der).has_value());

  // Every single-byte change and every truncation: whatever ReadCertificate accepts with a key
  // that decodes, OpenSSL reads too (most it refuses; a changed value inside a field is still a
  // certificate).
  int accepted = 0;
  for (size_t i = 0; i < der.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xFF}) {
      Bytes changed = der;
      changed[i] ^= flip;
      auto view = x509::ReadCertificate(changed);
      if (view && x509::DecodePublicKey(view->spki)) {
        ++accepted;
        INFO("byte " << i << " xor " << int(flip));
        CHECK(OpenSslReads(changed));
      }
    }
    Bytes cut(der.begin(), der.begin() + static_cast<std::ptrdiff_t>(i));
    CHECK_FALSE(x509::ReadCertificate(cut).has_value());
  }
  CHECK(accepted > 0);  // the check above was reached
  Bytes longer = der;
  longer.push_back(0);
  CHECK_FALSE(x509::ReadCertificate(longer).has_value());

  // Two different signature algorithms (X509_verify refuses these): the inner one changed.
  Bytes alg = x509::AlgorithmIdentifierDer(x509::SignatureAlgorithm::kEcdsaSha384).value();
  Bytes outer = x509::AlgorithmIdentifierDer(signer->algorithm()).value();
  Bytes mixed = der;
  auto at = std::search(mixed.begin(), mixed.end(), outer.begin(), outer.end());
  REQUIRE(at != mixed.end());
  REQUIRE(alg.size() == outer.size());
  std::copy(alg.begin(), alg.end(), at);
  auto refused = x509::ReadCertificate(mixed);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message().find("algorithms differ") != std::string::npos);
}

}  // namespace
}  // namespace imprint::testing
