#include "tests/common/tpm_test_util.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "common/tpm/structures.h"
#include "common/x509/ecdsa_signature.h"
#include "common/x509/evp_signer.h"

namespace imprint::testing {

// The seed from the encrypted secret, then the integrity HMAC and the credential.
Bytes OpenCredential(EVP_PKEY* ek, const tpm::Credential& c, ByteView name) {
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
  Bytes hmac_key = tpm::KdfaSha256(seed, "INTEGRITY", {}, {}, 256);
  Bytes hmac_input = encrypted;
  hmac_input.insert(hmac_input.end(), name.begin(), name.end());
  Bytes expected(32);
  unsigned int len = 0;
  HMAC(EVP_sha256(), hmac_key.data(), 32, hmac_input.data(), hmac_input.size(), expected.data(),
       &len);
  REQUIRE(hmac == expected);

  Bytes sym_key = tpm::KdfaSha256(seed, "STORAGE", name, {}, 128);
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

Bytes EccPublic(EVP_PKEY* key, TPMA_OBJECT attributes, TPMI_ALG_HASH name_alg) {
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
  auto marshalled = tpm::MarshalPublic(pub);
  REQUIRE(marshalled.has_value());
  return *marshalled;
}

Bytes TpmSignature(EVP_PKEY* signer, ByteView message) {
  x509::PkeyPtr copy(EVP_PKEY_dup(signer));
  auto evp = x509::EvpSigner::Create(std::move(copy)).value();
  Bytes raw = x509::EcdsaDerToRaw(evp->Sign(message).value(), 32).value();
  TPMT_SIGNATURE sig = {};
  sig.sigAlg = TPM2_ALG_ECDSA;
  sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
  sig.signature.ecdsa.signatureR.size = 32;
  sig.signature.ecdsa.signatureS.size = 32;
  std::memcpy(sig.signature.ecdsa.signatureR.buffer, raw.data(), 32);
  std::memcpy(sig.signature.ecdsa.signatureS.buffer, raw.data() + 32, 32);
  Bytes signature(sizeof(sig));
  size_t offset = 0;
  REQUIRE(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, signature.data(), signature.size(), &offset) ==
          TSS2_RC_SUCCESS);
  signature.resize(offset);
  return signature;
}

Certification Certify(EVP_PKEY* signer, ByteView name, ByteView nonce, TPM2_ST type) {
  TPMS_ATTEST attest = {};
  attest.magic = TPM2_GENERATED_VALUE;
  attest.type = type;
  attest.extraData.size = static_cast<UINT16>(nonce.size());
  std::memcpy(attest.extraData.buffer, nonce.data(), nonce.size());
  attest.firmwareVersion = 0x20191023;
  if (type == TPM2_ST_ATTEST_CERTIFY) {
    attest.attested.certify.name.size = static_cast<UINT16>(name.size());
    std::memcpy(attest.attested.certify.name.name, name.data(), name.size());
    attest.attested.certify.qualifiedName = attest.attested.certify.name;
  } else {
    attest.attested.quote.pcrSelect.count = 0;
  }
  Bytes marshalled(sizeof(attest));
  size_t offset = 0;
  REQUIRE(Tss2_MU_TPMS_ATTEST_Marshal(&attest, marshalled.data(), marshalled.size(), &offset) ==
          TSS2_RC_SUCCESS);
  marshalled.resize(offset);

  return {marshalled, TpmSignature(signer, marshalled)};
}

}  // namespace imprint::testing
