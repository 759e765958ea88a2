#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "common/offline/sealed_secret.h"
#include "common/pkcs11/ecdh.h"
#include "common/pkcs11/keygen.h"
#include "common/pkcs11/module.h"
#include "common/pkcs11/objects.h"
#include "common/pkcs11/random.h"
#include "common/pkcs11/signer.h"
#include "tests/support/softhsm_token.h"

namespace imprint::p11 {
namespace {

using testing::SoftHsmToken;

bool BoolAttribute(SessionPool::Lease& lease, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  auto value = GetAttribute(lease, object, type);
  REQUIRE(value.has_value());
  REQUIRE(value->size() == 1);
  return (*value)[0] == CK_TRUE;
}

TEST_CASE("loading a missing or non-PKCS#11 library fails clearly", "[pkcs11]") {
  auto missing = Module::Load("/nonexistent/libnothing.so");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code() == Code::kNotFound);
  auto not_p11 = Module::Load("libz.so.1");
  REQUIRE_FALSE(not_p11.has_value());
  CHECK(not_p11.error().message().find("not a PKCS#11 module") != std::string::npos);
}

TEST_CASE("two users of one module share it, and the first to let go does not finalise it",
          "[pkcs11]") {
  SoftHsmToken token("imprint-share");
  Uri uri = Uri::Parse("pkcs11:token=imprint-share").value();
  auto first = Module::Load(testing::kSoftHsmModule).value();
  auto second = Module::Load(testing::kSoftHsmModule).value();
  CHECK(first.get() == second.get());
  CHECK(first.get() == token.module().get());
  first.reset();
  // Before modules were counted, the first Module had called C_Finalize here, and every call
  // through the second failed with CKR_CRYPTOKI_NOT_INITIALIZED.
  CHECK(second->FindTokenSlot(uri).value() == token.slot());
  CK_INFO info{};
  CHECK(second->api()->C_GetInfo(&info) == CKR_OK);
}

TEST_CASE("many threads loading and releasing one module keep it initialised for each other",
          "[pkcs11]") {
  SoftHsmToken token("imprint-many");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto module = Module::Load(testing::kSoftHsmModule);
        CK_INFO info{};
        if (!module || (*module)->api()->C_GetInfo(&info) != CKR_OK) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
}

TEST_CASE("a token is found by its URI label and a wrong PIN is refused", "[pkcs11]") {
  SoftHsmToken token("imprint-find");
  Uri uri = Uri::Parse("pkcs11:token=imprint-find").value();
  CHECK(token.module()->FindTokenSlot(uri).value() == token.slot());
  auto missing = token.module()->FindTokenSlot(Uri::Parse("pkcs11:token=nope").value());
  CHECK(missing.error().code() == Code::kNotFound);

  auto pool = SessionPool::Open(token.module(), token.slot(), Secret(std::string("wrong")), 2);
  REQUIRE_FALSE(pool.has_value());
  CHECK(pool.error().code() == Code::kPermissionDenied);
  // The call, the result, the module, and what to do; never the PIN.
  CHECK(pool.error().message() ==
        std::string("C_Login: CKR_PIN_INCORRECT (module ") + testing::kSoftHsmModule +
            "). Hint: wrong PIN for this token: check the PIN file (repeated wrong PINs can "
            "lock the token)");
}

TEST_CASE("generated private keys are sensitive, private and never extractable", "[pkcs11]") {
  SoftHsmToken token;
  auto pool = token.OpenPool();
  auto lease = pool->Acquire();
  REQUIRE(lease.has_value());
  for (KeyType type : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa3072}) {
    std::string label = "key-" + std::string(KeyTypeName(type));
    auto keys = GenerateKeyPair(*lease, type, label, Bytes{0x42});
    REQUIRE(keys.has_value());
    CHECK(BoolAttribute(*lease, keys->private_key, CKA_TOKEN));
    CHECK(BoolAttribute(*lease, keys->private_key, CKA_PRIVATE));
    CHECK(BoolAttribute(*lease, keys->private_key, CKA_SENSITIVE));
    CHECK_FALSE(BoolAttribute(*lease, keys->private_key, CKA_EXTRACTABLE));
    CHECK_FALSE(GetAttribute(*lease, keys->private_key, CKA_VALUE).has_value());

    auto again = GenerateKeyPair(*lease, type, label, Bytes{0x43});
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().code() == Code::kAlreadyExists);
  }
}

TEST_CASE("token signatures verify with OpenSSL for every supported algorithm", "[pkcs11]") {
  using x509::SignatureAlgorithm;
  SoftHsmToken token;
  auto pool = token.OpenPool();
  {
    auto lease = pool->Acquire();
    REQUIRE(GenerateKeyPair(*lease, KeyType::kEcP256, "ec256", Bytes{1}).has_value());
    REQUIRE(GenerateKeyPair(*lease, KeyType::kEcP384, "ec384", Bytes{2}).has_value());
    REQUIRE(GenerateKeyPair(*lease, KeyType::kRsa3072, "rsa", Bytes{3}).has_value());
  }
  struct Case {
    const char* label;
    std::optional<SignatureAlgorithm> alg;
    SignatureAlgorithm expected;
  };
  for (const Case& c :
       {Case{"ec256", std::nullopt, SignatureAlgorithm::kEcdsaSha256},
        Case{"ec384", std::nullopt, SignatureAlgorithm::kEcdsaSha384},
        Case{"rsa", std::nullopt, SignatureAlgorithm::kRsaPkcs1Sha256},
        Case{"rsa", SignatureAlgorithm::kRsaPkcs1Sha384, SignatureAlgorithm::kRsaPkcs1Sha384},
        Case{"rsa", SignatureAlgorithm::kRsaPssSha256, SignatureAlgorithm::kRsaPssSha256},
        Case{"rsa", SignatureAlgorithm::kRsaPssSha384, SignatureAlgorithm::kRsaPssSha384}}) {
    INFO(c.label << " " << x509::SignatureAlgorithmName(c.expected));
    auto signer = Pkcs11Signer::Create(*pool, ObjectRef{c.label, std::nullopt}, c.alg);
    REQUIRE(signer.has_value());
    CHECK((*signer)->algorithm() == c.expected);
    Bytes message = {'t', 'b', 's'};
    auto signature = (*signer)->Sign(message);
    REQUIRE(signature.has_value());
    CHECK(x509::VerifySignature((*signer)->public_key(), c.expected, message, *signature));
    Bytes other = {'t', 'b', 'x'};
    CHECK_FALSE(x509::VerifySignature((*signer)->public_key(), c.expected, other, *signature));
  }
}

TEST_CASE("a signer for a missing key or with a mismatched algorithm is refused", "[pkcs11]") {
  SoftHsmToken token;
  auto pool = token.OpenPool();
  CHECK(Pkcs11Signer::Create(*pool, ObjectRef{"absent", std::nullopt}).error().code() ==
        Code::kNotFound);
  {
    auto lease = pool->Acquire();
    REQUIRE(GenerateKeyPair(*lease, KeyType::kEcP256, "ec", Bytes{1}).has_value());
  }
  auto mismatched = Pkcs11Signer::Create(*pool, ObjectRef{"ec", std::nullopt},
                                         x509::SignatureAlgorithm::kRsaPssSha256);
  CHECK(mismatched.error().code() == Code::kInvalidArgument);
  CHECK(Pkcs11Signer::Create(*pool, ObjectRef{}).error().code() == Code::kInvalidArgument);
}

TEST_CASE("the token's random generator gives fresh bytes", "[pkcs11]") {
  SoftHsmToken token;
  auto pool = token.OpenPool();
  auto a = GenerateRandom(*pool, 32);
  auto b = GenerateRandom(*pool, 32);
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(a->size() == 32);
  CHECK(*a != *b);
  CHECK(GenerateRandom(*pool, 0).error().code() == Code::kInvalidArgument);
}

TEST_CASE("an HMAC key is generated sensitive and not extractable", "[pkcs11]") {
  SoftHsmToken token;
  auto pool = token.OpenPool();
  auto lease = pool->Acquire();
  auto key = GenerateHmacKey(*lease, "verifier", Bytes{9});
  REQUIRE(key.has_value());
  CHECK(BoolAttribute(*lease, *key, CKA_SENSITIVE));
  CHECK_FALSE(BoolAttribute(*lease, *key, CKA_EXTRACTABLE));
  CHECK_FALSE(GetAttribute(*lease, *key, CKA_VALUE).has_value());
  CHECK(GenerateHmacKey(*lease, "verifier", Bytes{9}).error().code() == Code::kAlreadyExists);
}

TEST_CASE("an ECDH key in the token derives only, and opens what was sealed to it", "[pkcs11]") {
  SoftHsmToken token;
  auto pool = token.OpenPool();
  {
    auto lease = pool->Acquire();
    auto keys = GenerateEcdhKeyPair(*lease, "transport", Bytes{7});
    REQUIRE(keys.has_value());
    CHECK(BoolAttribute(*lease, keys->private_key, CKA_SENSITIVE));
    CHECK_FALSE(BoolAttribute(*lease, keys->private_key, CKA_EXTRACTABLE));
    CHECK(BoolAttribute(*lease, keys->private_key, CKA_DERIVE));
    CHECK_FALSE(BoolAttribute(*lease, keys->private_key, CKA_SIGN));
    CHECK(GenerateEcdhKeyPair(*lease, "transport", Bytes{7}).error().code() ==
          Code::kAlreadyExists);
  }
  auto key = EcdhKey::Find(*pool, {"transport", std::nullopt});
  REQUIRE(key.has_value());
  offline::SealedFor binding{"0123456789abcdef0123456789abcdef", "SIM-00001", "default_password"};
  auto sealed = offline::SealSecret((*key)->public_key(), binding, "Tr7-qz9-Kw2-hh4");
  REQUIRE(sealed.has_value());
  auto derive = [&](ByteView point) { return (*key)->Derive(point); };
  auto opened = offline::OpenSealedSecret(*sealed, binding, derive);
  INFO((opened ? std::string() : opened.error().ToString()));
  REQUIRE(opened.has_value());
  CHECK(opened->Reveal() == "Tr7-qz9-Kw2-hh4");
  // The derived secrets were session objects, read out and destroyed: none is left.
  auto lease = pool->Acquire();
  CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
  CK_ATTRIBUTE query{CKA_CLASS, &secret, sizeof(secret)};
  REQUIRE(lease->api()->C_FindObjectsInit(lease->handle(), &query, 1) == CKR_OK);
  CK_OBJECT_HANDLE found[4];
  CK_ULONG count = 0;
  REQUIRE(lease->api()->C_FindObjects(lease->handle(), found, 4, &count) == CKR_OK);
  lease->api()->C_FindObjectsFinal(lease->handle());
  CHECK(count == 0);
  // A point that is not one is refused, and a signing key cannot be used to derive.
  CHECK((*key)->Derive(Bytes(65, 0x04)).error().code() != Code::kOk);
  CHECK((*key)->Derive(Bytes(33, 0x02)).error().code() == Code::kInvalidArgument);
  REQUIRE(GenerateKeyPair(*lease, KeyType::kEcP256, "signing", Bytes{8}).has_value());
  auto signing = EcdhKey::Find(*pool, {"signing", std::nullopt});
  REQUIRE(signing.has_value());
  CHECK_FALSE((*signing)
                  ->Derive(sealed->size() > 66 ? ByteView(*sealed).subspan(1, 65) : ByteView())
                  .has_value());
}

}  // namespace
}  // namespace imprint::p11
