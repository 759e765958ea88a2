#include "common/x509/signer.h"

#include <openssl/rsa.h>

#include "common/x509/openssl_error.h"

namespace imprint::x509 {
namespace {

const char* DigestName(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kEcdsaSha384:
    case SignatureAlgorithm::kRsaPkcs1Sha384:
    case SignatureAlgorithm::kRsaPssSha384:
      return "SHA384";
    default:
      return "SHA256";
  }
}

bool IsPss(SignatureAlgorithm alg) {
  return alg == SignatureAlgorithm::kRsaPssSha256 || alg == SignatureAlgorithm::kRsaPssSha384;
}

}  // namespace

std::string_view SignatureAlgorithmName(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kEcdsaSha256:
      return "ecdsa-with-SHA256";
    case SignatureAlgorithm::kEcdsaSha384:
      return "ecdsa-with-SHA384";
    case SignatureAlgorithm::kRsaPkcs1Sha256:
      return "sha256WithRSAEncryption";
    case SignatureAlgorithm::kRsaPkcs1Sha384:
      return "sha384WithRSAEncryption";
    case SignatureAlgorithm::kRsaPssSha256:
      return "rsassa-pss-sha256";
    case SignatureAlgorithm::kRsaPssSha384:
      return "rsassa-pss-sha384";
  }
  return "unknown";
}

Result<SignatureAlgorithm> DefaultAlgorithmFor(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1) {
      return std::unexpected(OpenSslError(Code::kInvalidArgument, "EC key without a named curve"));
    }
    std::string_view name(group, len);
    if (name == "prime256v1" || name == "P-256") return SignatureAlgorithm::kEcdsaSha256;
    if (name == "secp384r1" || name == "P-384") return SignatureAlgorithm::kEcdsaSha384;
    return Fail(Code::kInvalidArgument, "unsupported EC curve " + std::string(name));
  }
  if (EVP_PKEY_is_a(key, "RSA")) return SignatureAlgorithm::kRsaPkcs1Sha256;
  return Fail(Code::kInvalidArgument, "unsupported key type");
}

Status VerifySignature(EVP_PKEY* key, SignatureAlgorithm alg, ByteView message,
                       ByteView signature) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), &pctx, DigestName(alg), nullptr, nullptr, key,
                                      nullptr) != 1) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "EVP_DigestVerifyInit_ex"));
  }
  if (IsPss(alg) && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return std::unexpected(OpenSslError(Code::kInternal, "RSA-PSS parameters"));
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "signature does not verify"));
  }
  return {};
}

}  // namespace imprint::x509
