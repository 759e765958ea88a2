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
#include "tests/common/tpm_test_util.h"

namespace imprint::tpm {
namespace {

using testing::EccPublic;
using testing::OpenCredential;

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
  Bytes marshalled = testing::TpmSignature(signer->public_key(), message);

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
