#include "common/pkcs11/signer.h"

#include <openssl/ecdsa.h>

#include "common/pkcs11/key_call.h"
#include "common/pkcs11/rv.h"
#include "common/x509/openssl_error.h"

namespace imprint::p11 {
namespace {

using x509::SignatureAlgorithm;

// DigestInfo prefixes for EMSA-PKCS1-v1_5 (RFC 8017 9.2, note 1).
const Bytes kSha256DigestInfo = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
const Bytes kSha384DigestInfo = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};

bool UsesSha384(SignatureAlgorithm alg) {
  return alg == SignatureAlgorithm::kEcdsaSha384 || alg == SignatureAlgorithm::kRsaPkcs1Sha384 ||
         alg == SignatureAlgorithm::kRsaPssSha384;
}

bool IsEcdsa(SignatureAlgorithm alg) {
  return alg == SignatureAlgorithm::kEcdsaSha256 || alg == SignatureAlgorithm::kEcdsaSha384;
}

bool IsPss(SignatureAlgorithm alg) {
  return alg == SignatureAlgorithm::kRsaPssSha256 || alg == SignatureAlgorithm::kRsaPssSha384;
}

// PKCS#11 returns ECDSA signatures as r || s, each as long as the order (PKCS#11 3.0 2.3.1);
// X.509 wants the DER ECDSA-Sig-Value (RFC 3279 2.2.3).
Result<Bytes> RawEcdsaToDer(const Bytes& raw) {
  if (raw.empty() || raw.size() % 2 != 0) {
    return Fail(Code::kUnavailable, "token returned a malformed ECDSA signature");
  }
  int half = static_cast<int>(raw.size() / 2);
  x509::EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), half, nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + half, half, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::unexpected(x509::OpenSslError(Code::kInternal, "ECDSA_SIG_set0"));
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::unexpected(x509::OpenSslError(Code::kInternal, "i2d_ECDSA_SIG"));
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

Pkcs11Signer::Pkcs11Signer(SessionPool& pool, ObjectRef ref, CK_OBJECT_HANDLE key,
                           x509::PkeyPtr public_key, SignatureAlgorithm algorithm,
                           x509::MdPtr digest)
    : pool_(pool),
      ref_(std::move(ref)),
      key_(key),
      public_key_(std::move(public_key)),
      algorithm_(algorithm),
      digest_(std::move(digest)) {}

Result<std::unique_ptr<Pkcs11Signer>> Pkcs11Signer::Create(
    SessionPool& pool, const ObjectRef& ref, std::optional<SignatureAlgorithm> algorithm) {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool.Acquire());
  IMPRINT_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE priv, FindObject(lease, CKO_PRIVATE_KEY, ref));
  IMPRINT_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE pub, FindObject(lease, CKO_PUBLIC_KEY, ref));
  IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr public_key, ReadPublicKey(lease, pub));
  IMPRINT_ASSIGN_OR_RETURN(SignatureAlgorithm default_alg,
                           x509::DefaultAlgorithmFor(public_key.get()));
  SignatureAlgorithm alg = algorithm.value_or(default_alg);
  if (IsEcdsa(alg) != IsEcdsa(default_alg)) {
    return Fail(Code::kInvalidArgument, "signature algorithm does not fit the key");
  }
  x509::MdPtr md(EVP_MD_fetch(nullptr, UsesSha384(alg) ? "SHA384" : "SHA256", nullptr));
  if (!md) return std::unexpected(x509::OpenSslError(Code::kInternal, "EVP_MD_fetch"));
  return std::unique_ptr<Pkcs11Signer>(
      new Pkcs11Signer(pool, ref, priv, std::move(public_key), alg, std::move(md)));
}

Result<Bytes> Pkcs11Signer::SignDigest(SessionPool::Lease& lease, CK_OBJECT_HANDLE key,
                                       ByteView digest) {
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  CK_RSA_PKCS_PSS_PARAMS pss{};
  Bytes input(digest.begin(), digest.end());
  if (IsPss(algorithm_)) {
    bool sha384 = UsesSha384(algorithm_);
    pss = {sha384 ? CKM_SHA384 : CKM_SHA256, sha384 ? CKG_MGF1_SHA384 : CKG_MGF1_SHA256,
           static_cast<CK_ULONG>(digest.size())};
    mech = {CKM_RSA_PKCS_PSS, &pss, sizeof(pss)};
  } else if (!IsEcdsa(algorithm_)) {
    const Bytes& prefix = UsesSha384(algorithm_) ? kSha384DigestInfo : kSha256DigestInfo;
    input.insert(input.begin(), prefix.begin(), prefix.end());
    mech = {CKM_RSA_PKCS, nullptr, 0};
  }
  CK_FUNCTION_LIST* api = lease.api();
  IMPRINT_RETURN_IF_ERROR(lease.Check("C_SignInit", api->C_SignInit(lease.handle(), &mech, key)));
  Bytes signature(1024);  // RSA 8192 fits
  CK_ULONG len = signature.size();
  IMPRINT_RETURN_IF_ERROR(lease.Check(
      "C_Sign", api->C_Sign(lease.handle(), input.data(), input.size(), signature.data(), &len)));
  signature.resize(len);
  if (IsEcdsa(algorithm_)) return RawEcdsaToDer(signature);
  return signature;
}

Result<Bytes> Pkcs11Signer::Sign(ByteView message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(message.data(), message.size(), digest, &digest_len, digest_.get(), nullptr) !=
      1) {
    return std::unexpected(x509::OpenSslError(Code::kInternal, "EVP_Digest"));
  }
  ByteView digest_view(digest, digest_len);
  return CallWithKey(pool_, ref_, CKO_PRIVATE_KEY, key_, "signing",
                     [&](SessionPool::Lease& lease, CK_OBJECT_HANDLE key) {
                       return SignDigest(lease, key, digest_view);
                     });
}

}  // namespace imprint::p11
