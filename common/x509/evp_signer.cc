#include "common/x509/evp_signer.h"

#include <openssl/ec.h>
#include <openssl/rsa.h>

#include <string>

#include "common/x509/openssl_error.h"

namespace imprint::x509 {

Result<std::unique_ptr<EvpSigner>> EvpSigner::Create(PkeyPtr private_key) {
  if (!private_key) return Fail(Code::kInvalidArgument, "no private key");
  IMPRINT_ASSIGN_OR_RETURN(SignatureAlgorithm alg, DefaultAlgorithmFor(private_key.get()));
  return std::unique_ptr<EvpSigner>(new EvpSigner(std::move(private_key), alg));
}

Result<Bytes> EvpSigner::Sign(ByteView message) {
  const char* digest = algorithm_ == SignatureAlgorithm::kEcdsaSha384 ? "SHA384" : "SHA256";
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, digest, nullptr, nullptr, key_.get(),
                                    nullptr) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "EVP_DigestSignInit_ex"));
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "EVP_DigestSign"));
  }
  Bytes signature(len);
  if (EVP_DigestSign(ctx.get(), signature.data(), &len, message.data(), message.size()) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "EVP_DigestSign"));
  }
  signature.resize(len);
  return signature;
}

Result<PkeyPtr> GenerateKey(std::string_view type) {
  EVP_PKEY* key = nullptr;
  if (type == "P-256") {
    key = EVP_EC_gen("P-256");
  } else if (type == "P-384") {
    key = EVP_EC_gen("P-384");
  } else if (type == "RSA-3072") {
    key = EVP_RSA_gen(3072);
  } else {
    return Fail(Code::kInvalidArgument, "unknown key type " + std::string(type));
  }
  if (key == nullptr) return std::unexpected(OpenSslError(Code::kInternal, "key generation"));
  return PkeyPtr(key);
}

}  // namespace imprint::x509
