#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "common/tpm/credential.h"
#include "common/tpm/structures.h"
#include "common/x509/ecdsa_signature.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"

namespace imprint::tpm {
namespace {

Bytes Name() {
  Bytes name = {0x00, 0x0b};
  name.resize(34, 0xaa);
  return name;
}

x509::PkeyPtr Rsa(int bits) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  REQUIRE(key != nullptr);
  return x509::PkeyPtr(key);
}

// What the TPM's ActivateCredential does, written out for the test: the seed from the
// encrypted secret, then the integrity HMAC and the credential.
Bytes OpenCredential(EVP_PKEY* ek, const Credential& c, ByteView name) {
  REQUIRE(c.encrypted_secret.size() == 2 + 256);
  REQUIRE((c.encrypted_secret[0] << 8 | c.encrypted_secret[1]) == 256);
  x509::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(ek, nullptr));
  REQUIRE(EVP_PKEY_decrypt_init(ctx.get()) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) == 1);
  auto* label = static_cast<unsigned char*>(OPENSSL_memdup("IDENTITY", 9));
  REQUIRE(EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), label, 9) == 1);
  Bytes seed(256);
  size_t seed_len = seed.size();
  REQUIRE(EVP_PKEY_decrypt(ctx.get(), seed.data(), &seed_len, c.encrypted_secret.data() + 2, 256) ==
          1);
  seed.resize(seed_len);

  const Bytes& blob = c.credential_blob;
  REQUIRE(blob.size() > 36);
  REQUIRE(static_cast<size_t>(blob[0] << 8 | blob[1]) == blob.size() - 2);
  REQUIRE((blob[2] << 8 | blob[3]) == 32);
  Bytes hmac(blob.begin() + 4, blob.begin() + 36);
  Bytes encrypted(blob.begin() + 36, blob.end());
  Bytes hmac_key = KdfaSha256(seed, "INTEGRITY", {}, {}, 256);
  Bytes hmac_input = encrypted;
  hmac_input.insert(hmac_input.end(), name.begin(), name.end());
  Bytes expected(32);
  unsigned int len = 0;
  HMAC(EVP_sha256(), hmac_key.data(), 32, hmac_input.data(), hmac_input.size(), expected.data(),
       &len);
  REQUIRE(hmac == expected);

  Bytes sym_key = KdfaSha256(seed, "STORAGE", name, {}, 128);
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> cipher(EVP_CIPHER_CTX_new(),
                                                                         EVP_CIPHER_CTX_free);
  const unsigned char iv[16] = {};
  Bytes plain(encrypted.size() + 16);
  int n = 0;
  REQUIRE(EVP_DecryptInit_ex(cipher.get(), EVP_aes_128_cfb128(), nullptr, sym_key.data(), iv) == 1);
  REQUIRE(EVP_DecryptUpdate(cipher.get(), plain.data(), &n, encrypted.data(),
                            static_cast<int>(encrypted.size())) == 1);
  plain.resize(static_cast<size_t>(n));
  REQUIRE(plain.size() >= 2);
  REQUIRE(static_cast<size_t>(plain[0] << 8 | plain[1]) == plain.size() - 2);
  return Bytes(plain.begin() + 2, plain.end());
}

// A P-256 key's TPM2B_PUBLIC as a TPM would give it back, marshalled.
Bytes EccPublic(EVP_PKEY* key, TPMA_OBJECT attributes, TPMI_ALG_HASH name_alg = TPM2_ALG_SHA256) {
  unsigned char point[65];
  size_t len = 0;
  REQUIRE(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
                                          &len) == 1);
  REQUIRE(len == 65);
  TPM2B_PUBLIC pub = {};
  pub.publicArea.type = TPM2_ALG_ECC;
  pub.publicArea.nameAlg = name_alg;
  pub.publicArea.objectAttributes = attributes;
  pub.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  pub.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  pub.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  pub.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  pub.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  pub.publicArea.unique.ecc.x.size = 32;
  pub.publicArea.unique.ecc.y.size = 32;
  std::memcpy(pub.publicArea.unique.ecc.x.buffer, point + 1, 32);
  std::memcpy(pub.publicArea.unique.ecc.y.buffer, point + 33, 32);
  auto marshalled = MarshalPublic(pub);
  REQUIRE(marshalled.has_value());
  return *marshalled;
}

TEST_CASE("KDFa matches python3-cryptography's SP 800-108 counter mode", "[tpm]") {
  // Expected values from tpm2_pytss.internal.crypto._kdfa (cryptography's KBKDFHMAC).
  Bytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  Bytes context = Name();
  CHECK(HexEncode(KdfaSha256(key, "STORAGE", context, {}, 128)) ==
        "0415b32b6f43896a87e7b29be8f2ac14");
  CHECK(HexEncode(KdfaSha256(key, "INTEGRITY", {}, {}, 256)) ==
        "bacf689f634ece301e1f1b15b072d9c87db6a69585db42b1a0cb8f73ebe2692e");
  // The length is part of the input: 384 bits is not 128 bits and more.
  CHECK(HexEncode(KdfaSha256(key, "STORAGE", context, {}, 384)) ==
        "278d8e605330e4b8e0cb8ce3e61374225fd82ed70e76fe28412239dffa16aa741a8df5833fa3dd81818741"
        "c3d81d2899");
}

TEST_CASE("MakeCredential seals a secret that the EK's private key and the Name open", "[tpm]") {
  auto ek = Rsa(2048);
  Bytes secret(32, 0x5c);
  Bytes seed(32, 0x17);
  auto credential = MakeCredential(ek.get(), Name(), secret, seed);
  REQUIRE(credential.has_value());
  CHECK(OpenCredential(ek.get(), *credential, Name()) == secret);

  // Sealed for another Name, the integrity check fails (the TPM refuses another AK).
  Bytes other = Name();
  other.back() ^= 1;
  auto for_other = MakeCredential(ek.get(), other, secret, seed);
  REQUIRE(for_other.has_value());
  CHECK(for_other->credential_blob != credential->credential_blob);
}

TEST_CASE("MakeCredential refuses what the TPM would not take", "[tpm]") {
  auto ek = Rsa(2048);
  Bytes secret(32, 1), seed(32, 2);
  auto ec_key = x509::GenerateKey("P-256").value();
  CHECK(MakeCredential(ec_key.get(), Name(), secret, seed).error().code() ==
        Code::kInvalidArgument);
  CHECK_FALSE(MakeCredential(Rsa(3072).get(), Name(), secret, seed).has_value());
  CHECK_FALSE(MakeCredential(ek.get(), Bytes(20, 0), secret, seed).has_value());
  Bytes sha1_name = Name();
  sha1_name[1] = 0x04;
  CHECK_FALSE(MakeCredential(ek.get(), sha1_name, secret, seed).has_value());
  CHECK_FALSE(MakeCredential(ek.get(), Name(), Bytes(33, 1), seed).has_value());
  CHECK_FALSE(MakeCredential(ek.get(), Name(), Bytes(), seed).has_value());
  CHECK_FALSE(MakeCredential(ek.get(), Name(), secret, Bytes(16, 2)).has_value());
}

TEST_CASE("a TPM public area gives its Name and key, and nothing else decodes", "[tpm]") {
  auto key = x509::GenerateKey("P-256").value();
  TPMA_OBJECT attributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                           TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_SIGN_ENCRYPT;
  Bytes marshalled = EccPublic(key.get(), attributes);
  auto parsed = ParsePublic(marshalled);
  REQUIRE(parsed.has_value());
  Bytes name = x509::Sha256(ByteView(marshalled).subspan(2));
  name.insert(name.begin(), {0x00, 0x0b});
  CHECK(parsed->name == name);
  auto public_key = PublicKey(parsed->area);
  REQUIRE(public_key.has_value());
  CHECK(EVP_PKEY_eq(public_key->get(), key.get()) == 1);
  CHECK(AttributeNames(parsed->area.objectAttributes) ==
        "fixedTPM|fixedParent|sensitiveDataOrigin|sign");

  Bytes trailing = marshalled;
  trailing.push_back(0);
  CHECK_FALSE(ParsePublic(trailing).has_value());
  CHECK_FALSE(ParsePublic(Bytes(marshalled.begin(), marshalled.end() - 1)).has_value());
  CHECK_FALSE(ParsePublic(EccPublic(key.get(), attributes, TPM2_ALG_SHA1)).has_value());
  CHECK_FALSE(ParsePublic({}).has_value());
}

TEST_CASE("a TPM signature verifies with its key only, over its message only", "[tpm]") {
  auto signer = x509::EvpSigner::Create(x509::GenerateKey("P-256").value()).value();
  Bytes message = {1, 2, 3, 4};
  Bytes der = signer->Sign(message).value();
  Bytes raw = x509::EcdsaDerToRaw(der, 32).value();
  TPMT_SIGNATURE sig = {};
  sig.sigAlg = TPM2_ALG_ECDSA;
  sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
  sig.signature.ecdsa.signatureR.size = 32;
  sig.signature.ecdsa.signatureS.size = 32;
  std::memcpy(sig.signature.ecdsa.signatureR.buffer, raw.data(), 32);
  std::memcpy(sig.signature.ecdsa.signatureS.buffer, raw.data() + 32, 32);
  Bytes marshalled(sizeof(sig));
  size_t offset = 0;
  REQUIRE(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, marshalled.data(), marshalled.size(), &offset) ==
          TSS2_RC_SUCCESS);
  marshalled.resize(offset);

  CHECK(VerifySignature(signer->public_key(), message, marshalled).has_value());
  Bytes other_message = {1, 2, 3, 5};
  CHECK_FALSE(VerifySignature(signer->public_key(), other_message, marshalled).has_value());
  auto other_key = x509::GenerateKey("P-256").value();
  CHECK_FALSE(VerifySignature(other_key.get(), message, marshalled).has_value());
  Bytes truncated(marshalled.begin(), marshalled.end() - 1);
  CHECK_FALSE(VerifySignature(signer->public_key(), message, truncated).has_value());
}

}  // namespace
}  // namespace imprint::tpm
