#include "common/x509/key_policy.h"

#include <string_view>

#include "common/x509/openssl_error.h"

namespace imprint::x509 {

std::string KeyInfo::Describe() const {
  switch (kind) {
    case KeyKind::kEcP256:
      return "EC P-256";
    case KeyKind::kEcP384:
      return "EC P-384";
    case KeyKind::kRsa:
      return "RSA " + std::to_string(bits);
  }
  return "unknown";
}

Result<KeyInfo> CheckKeyPolicy(EVP_PKEY* key, const KeyPolicy& policy) {
  if (key == nullptr) return Fail(Code::kInvalidArgument, "no public key");
  KeyInfo info{KeyKind::kRsa, EVP_PKEY_get_bits(key)};
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1) {
      ClearOpenSslErrors();
      return Fail(Code::kInvalidArgument, "EC key must use a named curve");
    }
    std::string_view name(group, len);
    if (name == "prime256v1") {
      info.kind = KeyKind::kEcP256;
    } else if (name == "secp384r1") {
      info.kind = KeyKind::kEcP384;
    } else {
      return Fail(Code::kInvalidArgument,
                  "EC curve " + std::string(name) + " not allowed (P-256 or P-384)");
    }
  } else if (EVP_PKEY_is_a(key, "RSA")) {
    if (info.bits < policy.min_rsa_bits || info.bits > policy.max_rsa_bits) {
      return Fail(Code::kInvalidArgument, "RSA key of " + std::to_string(info.bits) +
                                              " bits not allowed (minimum " +
                                              std::to_string(policy.min_rsa_bits) + ")");
    }
  } else {
    return Fail(Code::kInvalidArgument, "key type not allowed (EC P-256, P-384 or RSA)");
  }
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  // For EC the quick check (on the curve, not the point at infinity; SP 800-56A 5.6.2.3.4) is
  // full validation here: P-256 and P-384 have cofactor 1, so every such point has the group
  // order and the costly n*Q check adds nothing.
  bool is_ec = info.kind != KeyKind::kRsa;
  if (!ctx ||
      (is_ec ? EVP_PKEY_public_check_quick(ctx.get()) : EVP_PKEY_public_check(ctx.get())) != 1) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "public key is not valid"));
  }
  return info;
}

}  // namespace imprint::x509
