#include "common/offline/sealed_secret.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <string>

#include "common/x509/encoding.h"

namespace imprint::offline {
namespace {

constexpr std::string_view kInfo = "imprint-sealed-secret-v1";
constexpr uint8_t kVersion = 0x01;
constexpr size_t kPointBytes = 65;
constexpr size_t kTagBytes = 16;
constexpr size_t kIvBytes = 12;
constexpr size_t kKeyBytes = 32;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

Error OpenSslError(const std::string& what) { return Error(Code::kInternal, what + " failed"); }

void Append(Bytes& out, std::string_view text) { out.insert(out.end(), text.begin(), text.end()); }

// `label` || "\0" || allowance || "\0" || device || "\0" || name.
Bytes Bound(std::string_view label, const SealedFor& b) {
  Bytes out;
  for (std::string_view part : {label, b.allowance, b.device}) {
    Append(out, part);
    out.push_back(0);
  }
  Append(out, b.name);
  return out;
}

Bytes Aad(const SealedFor& b) { return Bound(kInfo, b); }

// HKDF-SHA-256 of the shared secret, salted with the ephemeral point, for one binding (`aad`).
Result<Secret> KeyFrom(const Secret& shared, ByteView point, const Bytes& aad) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return std::unexpected(OpenSslError("HKDF fetch"));
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf));
  EVP_KDF_free(kdf);
  if (!ctx) return std::unexpected(OpenSslError("HKDF context"));
  std::string digest = "SHA256";
  std::string_view ikm = shared.Reveal();
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()), ikm.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(point.data()), point.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(aad.data()), aad.size()),
                         OSSL_PARAM_construct_end()};
  std::string key(kKeyBytes, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(key.data()), key.size(), params) !=
      1) {
    return std::unexpected(OpenSslError("HKDF"));
  }
  return Secret(std::move(key));
}

// AES-256-GCM; `encrypt` false checks `tag` and fails with DATA_LOSS.
Result<std::string> Gcm(bool encrypt, const Secret& key, const uint8_t* iv, const Bytes& aad,
                        ByteView in, uint8_t* tag) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return std::unexpected(OpenSslError("cipher context"));
  auto* k = reinterpret_cast<const unsigned char*>(key.Reveal().data());
  int ok = encrypt ? EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, iv)
                   : EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, iv);
  if (ok != 1) return std::unexpected(OpenSslError("AES-GCM init"));
  int len = 0;
  auto update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
  if (update(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return std::unexpected(OpenSslError("AES-GCM aad"));
  }
  std::string out(in.size(), '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (update(ctx.get(), o, &len, in.data(), static_cast<int>(in.size())) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::unexpected(OpenSslError("AES-GCM"));
  }
  if (encrypt) {
    if (EVP_EncryptFinal_ex(ctx.get(), o + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) != 1) {
      return std::unexpected(OpenSslError("AES-GCM final"));
    }
    return out;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), o + len, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return Fail(Code::kDataLoss, "the sealed value does not open");
  }
  return out;
}

Result<Bytes> EncodedPoint(EVP_PKEY* key) {
  size_t size = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0, &size) !=
          1 ||
      size != kPointBytes) {
    return Fail(Code::kInvalidArgument, "the recipient is not a P-256 key");
  }
  Bytes point(size);
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point.data(),
                                      point.size(), &size) != 1) {
    return std::unexpected(OpenSslError("point export"));
  }
  return point;
}

}  // namespace

Result<Secret> DeriveSharedInSoftware(EVP_PKEY* private_key, ByteView point) {
  // The peer as a key of the same group.
  char group[64] = {};
  if (EVP_PKEY_get_utf8_string_param(private_key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     nullptr) != 1) {
    return Fail(Code::kInvalidArgument, "not an EC key");
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<uint8_t*>(point.data()),
                                        point.size()),
      OSSL_PARAM_construct_end()};
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> from(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw_peer = nullptr;
  if (!from || EVP_PKEY_fromdata_init(from.get()) != 1 ||
      EVP_PKEY_fromdata(from.get(), &raw_peer, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return Fail(Code::kInvalidArgument, "not a point on the key's curve");
  }
  x509::PkeyPtr peer(raw_peer);
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(private_key, nullptr));
  size_t length = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &length) != 1) {
    return Fail(Code::kInvalidArgument, "ECDH with this point failed");
  }
  std::string shared(length, '\0');
  if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(shared.data()), &length) != 1) {
    OPENSSL_cleanse(shared.data(), shared.size());
    return std::unexpected(OpenSslError("ECDH"));
  }
  shared.resize(length);
  return Secret(std::move(shared));
}

Result<Sealer> Sealer::For(EVP_PKEY* recipient) {
  IMPRINT_ASSIGN_OR_RETURN(Bytes recipient_point, EncodedPoint(recipient));  // P-256, or refused
  x509::PkeyPtr ephemeral(EVP_EC_gen("P-256"));
  if (!ephemeral) return std::unexpected(OpenSslError("ephemeral key"));
  IMPRINT_ASSIGN_OR_RETURN(Bytes point, EncodedPoint(ephemeral.get()));
  IMPRINT_ASSIGN_OR_RETURN(Secret shared, DeriveSharedInSoftware(ephemeral.get(), recipient_point));
  return Sealer(std::move(point), std::move(shared));
}

Result<Bytes> Sealer::Seal(const SealedFor& binding, std::string_view value) const {
  if (value.empty() || value.size() > kMaxSealedValue) {
    return Fail(Code::kInvalidArgument,
                "a sealed value has 1.." + std::to_string(kMaxSealedValue) + " bytes");
  }
  Bytes aad = Aad(binding);
  IMPRINT_ASSIGN_OR_RETURN(Secret key, KeyFrom(shared_, point_, aad));
  uint8_t iv[kIvBytes];
  if (RAND_bytes(iv, kIvBytes) != 1) return std::unexpected(OpenSslError("random IV"));
  uint8_t tag[kTagBytes] = {};
  IMPRINT_ASSIGN_OR_RETURN(std::string body, Gcm(true, key, iv, aad, AsBytes(value), tag));
  // Sized once and filled in place (growing a one-byte vector by insert drew a false
  // -Warray-bounds from g++ 12 in the ThreadSanitizer build).
  Bytes sealed(1 + point_.size() + kIvBytes + body.size() + kTagBytes);
  sealed[0] = kVersion;
  auto at = std::copy(point_.begin(), point_.end(), sealed.begin() + 1);
  at = std::copy(iv, iv + kIvBytes, at);
  at = std::copy(body.begin(), body.end(), at);
  std::copy(tag, tag + kTagBytes, at);
  return sealed;
}

Result<Bytes> SealSecret(EVP_PKEY* recipient, const SealedFor& binding, std::string_view value) {
  IMPRINT_ASSIGN_OR_RETURN(Sealer sealer, Sealer::For(recipient));
  return sealer.Seal(binding, value);
}

Result<Secret> OpenSealedSecret(ByteView sealed, const SealedFor& binding,
                                const DeriveShared& derive) {
  constexpr size_t kFixed = 1 + kPointBytes + kIvBytes + kTagBytes;
  if (sealed.size() < kFixed + 1 || sealed.size() > kFixed + kMaxSealedValue ||
      sealed[0] != kVersion) {
    return Fail(Code::kInvalidArgument, "not a sealed value of this version");
  }
  ByteView point = sealed.subspan(1, kPointBytes);
  const uint8_t* iv = sealed.data() + 1 + kPointBytes;
  ByteView body = sealed.subspan(1 + kPointBytes + kIvBytes, sealed.size() - kFixed);
  uint8_t tag[kTagBytes];
  std::copy(sealed.end() - kTagBytes, sealed.end(), tag);
  IMPRINT_ASSIGN_OR_RETURN(Secret shared, derive(point));
  Bytes aad = Aad(binding);
  IMPRINT_ASSIGN_OR_RETURN(Secret key, KeyFrom(shared, point, aad));
  IMPRINT_ASSIGN_OR_RETURN(std::string value, Gcm(false, key, iv, aad, body, tag));
  return Secret(std::move(value));
}

Bytes SealedSecretMessage(const SealedFor& binding, ByteView sealed) {
  Bytes message = Bound("imprint-sealed-secret-signature-v1", binding);
  message.push_back(0);
  Bytes digest = x509::Sha256(sealed);
  message.insert(message.end(), digest.begin(), digest.end());
  return message;
}

}  // namespace imprint::offline
