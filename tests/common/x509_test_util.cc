#include "tests/common/x509_test_util.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <catch2/catch.hpp>

#include "common/x509/encoding.h"

namespace imprint::testing {

Bytes OpenSslCsr(EVP_PKEY* key, const std::string& cn) {
  x509::X509ReqPtr req(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.data()),
                             static_cast<int>(cn.size()), -1, 0);
  REQUIRE(X509_REQ_set_pubkey(req.get(), key) == 1);
  const EVP_MD* md = EVP_PKEY_is_a(key, "ED25519") ? nullptr : EVP_sha256();
  REQUIRE(X509_REQ_sign(req.get(), key, md) > 0);
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  REQUIRE(len > 0);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

x509::PkeyPtr ReencodedEcKey(EVP_PKEY* key, const std::string& how) {
  x509::PkeyPtr copy(EVP_PKEY_dup(key));
  REQUIRE(copy);
  if (how == "compressed") {
    REQUIRE(EVP_PKEY_set_utf8_string_param(copy.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                           OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_COMPRESSED) == 1);
  } else {
    REQUIRE(how == "explicit");
    REQUIRE(EVP_PKEY_set_utf8_string_param(copy.get(), OSSL_PKEY_PARAM_EC_ENCODING,
                                           OSSL_PKEY_EC_ENCODING_EXPLICIT) == 1);
  }
  return copy;
}

Bytes CsrClaimingRsaKey(int bits) {
  x509::BigNumPtr n(BN_new());
  x509::BigNumPtr e(BN_new());
  REQUIRE((n && e && BN_rand(n.get(), bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD) == 1 &&
           BN_set_word(e.get(), 65537) == 1));
  x509::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  REQUIRE((bld && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) == 1 &&
           OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) == 1));
  x509::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  x509::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  REQUIRE((params && ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
           EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) == 1));
  x509::PkeyPtr claimed(raw);
  x509::X509ReqPtr req(X509_REQ_new());
  REQUIRE(X509_REQ_set_pubkey(req.get(), claimed.get()) == 1);
  auto signer = TestKey("P-256");  // not the claimed key: the signature cannot verify
  REQUIRE(X509_REQ_sign(req.get(), signer.get(), EVP_sha256()) > 0);
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  REQUIRE(len > 0);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

x509::PkeyPtr TestKey(const std::string& type) {
  EVP_PKEY* key = nullptr;
  if (type == "RSA-1024")
    key = EVP_RSA_gen(1024);
  else if (type == "RSA-2048")
    key = EVP_RSA_gen(2048);
  else if (type == "ed25519")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  else
    key = EVP_EC_gen(type.c_str());
  REQUIRE(key != nullptr);
  return x509::PkeyPtr(key);
}

x509::CertificateProfile RootProfile() {
  x509::CertificateProfile p;
  p.is_ca = true;
  p.path_length = 1;
  p.key_usage = {"keyCertSign", "cRLSign"};
  p.lifetime = std::chrono::days(365 * 25);
  return p;
}

x509::CertificateProfile IssuingProfile() {
  x509::CertificateProfile p = RootProfile();
  p.path_length = 0;
  p.key_usage = {"digitalSignature", "keyCertSign", "cRLSign"};
  p.lifetime = std::chrono::days(365 * 20);
  return p;
}

x509::CertificateProfile DeviceProfile() {
  x509::CertificateProfile p;
  p.key_usage = {"digitalSignature"};
  p.extended_key_usage = {"clientAuth"};
  return p;
}

Bytes TestSerial() {
  Bytes random(x509::kSerialBytes);
  REQUIRE(RAND_bytes(random.data(), static_cast<int>(random.size())) == 1);
  return x509::MakeSerial(random);
}

x509::X509Ptr Issue(const x509::CertificateProfile& profile, const std::string& cn, EVP_PKEY* key,
                    const X509* issuer, x509::Signer& signer, std::vector<std::string> san_uris) {
  x509::CertificateRequest request;
  request.profile = &profile;
  request.subject.name = {{"CN", cn}, {"O", "Acme Devices"}};
  request.subject.san_uris = std::move(san_uris);
  request.public_key = key;
  request.serial = TestSerial();
  auto cert = x509::IssueCertificate(request, issuer, signer);
  if (!cert) FAIL(cert.error().ToString());
  return std::move(*cert);
}

std::string ToPem(const X509* cert) {
  auto pem = x509::CertificateToPem(cert);
  REQUIRE(pem.has_value());
  return *pem;
}

}  // namespace imprint::testing
