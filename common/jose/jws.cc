#include "common/jose/jws.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>

#include <memory>

#include "common/base64.h"
#include "common/x509/ecdsa_signature.h"

namespace imprint::jose {
namespace {

using BnPtr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

bool IsEcdsa(x509::SignatureAlgorithm alg) {
  return alg == x509::SignatureAlgorithm::kEcdsaSha256 ||
         alg == x509::SignatureAlgorithm::kEcdsaSha384;
}

// Bytes of one coordinate (and of r or s) for an EC key.
size_t FieldBytes(const EVP_PKEY* key) {
  return static_cast<size_t>((EVP_PKEY_get_bits(key) + 7) / 8);
}

Result<std::string> BigNumParam(const EVP_PKEY* key, const char* name, size_t width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    return Fail(Code::kInvalidArgument, std::string("key has no ") + name);
  }
  BnPtr bn(raw, BN_free);
  Bytes out(width ? width : static_cast<size_t>(BN_num_bytes(bn.get())));
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0) {
    return Fail(Code::kInvalidArgument, std::string(name) + " wider than the key");
  }
  return Base64UrlEncode(out);
}

std::string_view AsText(const Bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

std::string_view JwsAlgorithm(x509::SignatureAlgorithm alg) {
  switch (alg) {
    case x509::SignatureAlgorithm::kEcdsaSha256:
      return "ES256";
    case x509::SignatureAlgorithm::kEcdsaSha384:
      return "ES384";
    case x509::SignatureAlgorithm::kRsaPkcs1Sha256:
      return "RS256";
    case x509::SignatureAlgorithm::kRsaPkcs1Sha384:
      return "RS384";
    case x509::SignatureAlgorithm::kRsaPssSha256:
      return "PS256";
    case x509::SignatureAlgorithm::kRsaPssSha384:
      return "PS384";
  }
  return "";
}

Result<x509::SignatureAlgorithm> SignatureAlgorithmFromJws(std::string_view alg) {
  for (auto a :
       {x509::SignatureAlgorithm::kEcdsaSha256, x509::SignatureAlgorithm::kEcdsaSha384,
        x509::SignatureAlgorithm::kRsaPkcs1Sha256, x509::SignatureAlgorithm::kRsaPkcs1Sha384,
        x509::SignatureAlgorithm::kRsaPssSha256, x509::SignatureAlgorithm::kRsaPssSha384}) {
    if (JwsAlgorithm(a) == alg) return a;
  }
  return Fail(Code::kInvalidArgument, "unsupported JWS alg \"" + std::string(alg) + "\"");
}

JwsSigner::JwsSigner(x509::Signer& signer, nlohmann::json header) : signer_(signer) {
  header["alg"] = std::string(JwsAlgorithm(signer.algorithm()));
  protected_b64_ = Base64UrlEncode(AsBytes(header.dump()));
}

Result<nlohmann::json> JwsSigner::Sign(std::string_view payload,
                                       const nlohmann::json& unprotected) const {
  std::string payload_b64 = Base64UrlEncode(AsBytes(payload));
  std::string input = protected_b64_ + "." + payload_b64;
  IMPRINT_ASSIGN_OR_RETURN(Bytes signature, signer_.Sign(AsBytes(input)));
  if (IsEcdsa(signer_.algorithm())) {
    IMPRINT_ASSIGN_OR_RETURN(signature,
                             x509::EcdsaDerToRaw(signature, FieldBytes(signer_.public_key())));
  }
  nlohmann::json jws = {{"payload", std::move(payload_b64)}, {"protected", protected_b64_}};
  if (!unprotected.is_null()) jws["header"] = unprotected;
  jws["signature"] = Base64UrlEncode(signature);
  return jws;
}

Result<nlohmann::json> PeekProtectedHeader(const nlohmann::json& jws) {
  if (!jws.is_object() || !jws.contains("protected") || !jws["protected"].is_string()) {
    return Fail(Code::kInvalidArgument, "not a flattened JWS: no \"protected\" string");
  }
  auto bytes = Base64UrlDecode(jws["protected"].get<std::string>());
  if (!bytes) return Fail(Code::kInvalidArgument, "\"protected\" is not base64url");
  auto header = nlohmann::json::parse(AsText(*bytes), nullptr, false);
  if (!header.is_object())
    return Fail(Code::kInvalidArgument, "\"protected\" is not a JSON object");
  return header;
}

Result<VerifiedJws> VerifyJws(const nlohmann::json& jws, EVP_PKEY* key) {
  IMPRINT_ASSIGN_OR_RETURN(nlohmann::json header, PeekProtectedHeader(jws));
  for (const char* field : {"payload", "signature"}) {
    if (!jws.contains(field) || !jws[field].is_string()) {
      return Fail(Code::kInvalidArgument,
                  std::string("not a flattened JWS: no \"") + field + "\" string");
    }
  }
  if (!header.contains("alg") || !header["alg"].is_string()) {
    return Fail(Code::kInvalidArgument, "protected header has no \"alg\"");
  }
  IMPRINT_ASSIGN_OR_RETURN(auto alg, SignatureAlgorithmFromJws(header["alg"].get<std::string>()));
  IMPRINT_ASSIGN_OR_RETURN(auto expected, x509::DefaultAlgorithmFor(key));
  if (alg != expected) {
    return Fail(Code::kInvalidArgument,
                "alg " + header["alg"].get<std::string>() + " does not fit the signer's key");
  }
  auto payload = Base64UrlDecode(jws["payload"].get<std::string>());
  auto signature = Base64UrlDecode(jws["signature"].get<std::string>());
  if (!payload || !signature)
    return Fail(Code::kInvalidArgument, "payload or signature is not base64url");
  if (IsEcdsa(alg)) {
    auto der = x509::EcdsaRawToDer(*signature, FieldBytes(key));
    if (!der) return Fail(Code::kDataLoss, "signature has the wrong length for the key");
    signature = std::move(der);
  }
  std::string input = jws["protected"].get<std::string>() + "." + jws["payload"].get<std::string>();
  if (!x509::VerifySignature(key, alg, AsBytes(input), *signature)) {
    return Fail(Code::kDataLoss, "signature does not verify");
  }
  return VerifiedJws{std::move(header), std::string(AsText(*payload))};
}

Result<nlohmann::json> PublicJwk(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    IMPRINT_ASSIGN_OR_RETURN(std::string n, BigNumParam(key, OSSL_PKEY_PARAM_RSA_N, 0));
    IMPRINT_ASSIGN_OR_RETURN(std::string e, BigNumParam(key, OSSL_PKEY_PARAM_RSA_E, 0));
    return nlohmann::json{{"kty", "RSA"}, {"n", n}, {"e", e}};
  }
  if (!EVP_PKEY_is_a(key, "EC")) return Fail(Code::kInvalidArgument, "key is neither EC nor RSA");
  char group[64] = {};
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     nullptr) != 1) {
    return Fail(Code::kInvalidArgument, "EC key without a named curve");
  }
  std::string_view name(group);
  std::string crv = name == "prime256v1"  ? "P-256"
                    : name == "secp384r1" ? "P-384"
                    : name == "secp521r1" ? "P-521"
                                          : "";
  if (crv.empty())
    return Fail(Code::kInvalidArgument, "curve " + std::string(name) + " has no JWK name");
  size_t width = FieldBytes(key);
  IMPRINT_ASSIGN_OR_RETURN(std::string x, BigNumParam(key, OSSL_PKEY_PARAM_EC_PUB_X, width));
  IMPRINT_ASSIGN_OR_RETURN(std::string y, BigNumParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, width));
  return nlohmann::json{{"kty", "EC"}, {"crv", crv}, {"x", x}, {"y", y}};
}

}  // namespace imprint::jose
