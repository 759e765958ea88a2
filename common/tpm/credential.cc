#include "common/tpm/credential.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <cstring>

#include "common/x509/openssl_error.h"

namespace imprint::tpm {
namespace {

constexpr size_t kNameBytes = 34;  // SHA-256 nameAlg + digest
constexpr size_t kSeedBytes = 32;

void AppendU16(Bytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void AppendU32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

Bytes HmacSha256(ByteView key, ByteView message) {
  Bytes out(32);
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
       out.data(), &len);
  out.resize(len);
  return out;
}

// RSA-OAEP with SHA-256 and the label "IDENTITY" and its zero (Part 1, B.10.3).
Result<Bytes> EncryptSeed(EVP_PKEY* ek, ByteView seed) {
  x509::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(ek, nullptr));
  static const char kLabel[] = "IDENTITY";  // sizeof includes the zero
  auto* label = static_cast<unsigned char*>(OPENSSL_memdup(kLabel, sizeof(kLabel)));
  if (!ctx || label == nullptr || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1) {
    OPENSSL_free(label);
    return std::unexpected(x509::OpenSslError(Code::kInternal, "RSA-OAEP setup"));
  }
  if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), label, sizeof(kLabel)) != 1) {
    OPENSSL_free(label);
    return std::unexpected(x509::OpenSslError(Code::kInternal, "RSA-OAEP label"));
  }
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, seed.data(), seed.size()) != 1) {
    return std::unexpected(x509::OpenSslError(Code::kInternal, "RSA-OAEP size"));
  }
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, seed.data(), seed.size()) != 1) {
    return std::unexpected(x509::OpenSslError(Code::kInternal, "RSA-OAEP"));
  }
  out.resize(len);
  return out;
}

Result<Bytes> Aes128Cfb(ByteView key, ByteView plaintext) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  const unsigned char iv[16] = {};
  Bytes out(plaintext.size() + 16);
  int len = 0, tail = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_cfb128(), nullptr, key.data(), iv) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &tail) != 1) {
    return std::unexpected(x509::OpenSslError(Code::kInternal, "AES-128-CFB"));
  }
  out.resize(static_cast<size_t>(len + tail));
  return out;
}

}  // namespace

Bytes KdfaSha256(ByteView key, std::string_view label, ByteView context_u, ByteView context_v,
                 size_t bits) {
  Bytes out;
  for (uint32_t counter = 1; out.size() * 8 < bits; ++counter) {
    Bytes block;
    AppendU32(block, counter);
    block.insert(block.end(), label.begin(), label.end());
    block.push_back(0);
    block.insert(block.end(), context_u.begin(), context_u.end());
    block.insert(block.end(), context_v.begin(), context_v.end());
    AppendU32(block, static_cast<uint32_t>(bits));
    Bytes h = HmacSha256(key, block);
    out.insert(out.end(), h.begin(), h.end());
  }
  out.resize(bits / 8);
  return out;
}

Result<Credential> MakeCredential(EVP_PKEY* endorsement_key, ByteView object_name, ByteView secret,
                                  ByteView seed) {
  if (EVP_PKEY_get_base_id(endorsement_key) != EVP_PKEY_RSA ||
      EVP_PKEY_get_bits(endorsement_key) != 2048) {
    return Fail(Code::kInvalidArgument, "the EK is not RSA 2048 (the TCG default template)");
  }
  if (object_name.size() != kNameBytes || object_name[0] != 0x00 || object_name[1] != 0x0b) {
    return Fail(Code::kInvalidArgument, "the object's Name is not a SHA-256 Name");
  }
  if (secret.empty() || secret.size() > 32 || seed.size() != kSeedBytes) {
    return Fail(Code::kInvalidArgument, "credential secret or seed has the wrong size");
  }
  IMPRINT_ASSIGN_OR_RETURN(Bytes encrypted_seed, EncryptSeed(endorsement_key, seed));

  Bytes sym_key = KdfaSha256(seed, "STORAGE", object_name, {}, 128);
  Bytes plaintext;  // TPM2B_DIGEST of the secret
  AppendU16(plaintext, secret.size());
  plaintext.insert(plaintext.end(), secret.begin(), secret.end());
  auto encrypted = Aes128Cfb(sym_key, plaintext);
  OPENSSL_cleanse(sym_key.data(), sym_key.size());
  OPENSSL_cleanse(plaintext.data(), plaintext.size());
  if (!encrypted) return std::unexpected(encrypted.error());

  Bytes hmac_key = KdfaSha256(seed, "INTEGRITY", {}, {}, 256);
  Bytes hmac_input = *encrypted;
  hmac_input.insert(hmac_input.end(), object_name.begin(), object_name.end());
  Bytes outer_hmac = HmacSha256(hmac_key, hmac_input);
  OPENSSL_cleanse(hmac_key.data(), hmac_key.size());

  Credential out;
  AppendU16(out.credential_blob, 2 + outer_hmac.size() + encrypted->size());
  AppendU16(out.credential_blob, outer_hmac.size());
  out.credential_blob.insert(out.credential_blob.end(), outer_hmac.begin(), outer_hmac.end());
  out.credential_blob.insert(out.credential_blob.end(), encrypted->begin(), encrypted->end());
  AppendU16(out.encrypted_secret, encrypted_seed.size());
  out.encrypted_secret.insert(out.encrypted_secret.end(), encrypted_seed.begin(),
                              encrypted_seed.end());
  return out;
}

}  // namespace imprint::tpm
