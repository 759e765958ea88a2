// The CA's key attestation checks (ca/attestation/tpm_attestation.h) against a TPM written out
// in software (tests/common/tpm_test_util.h): every check refuses the evidence that breaks it,
// with its reason. Real TPMs: tests/e2e/tpm_attestation_test.sh.

#include "ca/attestation/tpm_attestation.h"

#include <openssl/rand.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "common/tpm/structures.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/common/tpm_test_util.h"
#include "tests/common/x509_test_util.h"
#include "tests/support/temp_dir.h"

namespace imprint::ca {
namespace {

using testing::EccPublic;
using testing::kMadeInTpm;
using testing::TempDir;

Result<Bytes> TestRandom(size_t n) {
  Bytes out(n);
  REQUIRE(RAND_bytes(out.data(), static_cast<int>(n)) == 1);
  return out;
}

// A TPM maker (root CA), and one TPM: its RSA EK with a certificate from the maker, its AK and
// a device key, both made "in the TPM".
struct Maker {
  std::unique_ptr<x509::EvpSigner> signer =
      x509::EvpSigner::Create(testing::TestKey("P-256")).value();
  x509::X509Ptr root = testing::Issue(testing::RootProfile(), "TPM Maker Root",
                                      signer->public_key(), nullptr, *signer);
};

struct Tpm {
  explicit Tpm(Maker& maker)
      : ek(testing::TestKey("RSA-2048")),
        ak(testing::TestKey("P-256")),
        key(testing::TestKey("P-256")) {
    x509::CertificateProfile profile = testing::DeviceProfile();
    profile.extended_key_usage = {};
    profile.key_usage = {"keyEncipherment"};
    auto cert = testing::Issue(profile, "EK", ek.get(), maker.root.get(), *maker.signer);
    ek_der = x509::CertificateToDer(cert.get()).value();
    ak_public = EccPublic(ak.get(), kMadeInTpm | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT);
    key_public = EccPublic(key.get(), kMadeInTpm | TPMA_OBJECT_SIGN_ENCRYPT);
  }
  x509::PkeyPtr ek, ak, key;
  Bytes ek_der, ak_public, key_public;
};

struct Fixture {
  TempDir dir;
  Maker maker;
  Tpm tpm{maker};
  std::unique_ptr<TpmAttestation> attestation;

  Fixture() {
    testing::WriteFile(dir / "maker.pem", testing::ToPem(maker.root.get()), 0644);
    attestation = TpmAttestation::Load(dir.path().string(), TestRandom).value();
  }

  // The device's honest answer to a challenge.
  TpmEvidence Answer(const TpmChallenge& c) {
    tpm::Credential credential{c.credential_blob, c.encrypted_secret};
    auto ak_name = tpm::ParsePublic(tpm.ak_public).value().name;
    auto key_name = tpm::ParsePublic(tpm.key_public).value().name;
    auto certified = testing::Certify(tpm.ak.get(), key_name, c.nonce);
    return TpmEvidence{
        tpm.ek_der,          tpm.ak_public,
        tpm.key_public,      certified.attest,
        certified.signature, testing::OpenCredential(tpm.ek.get(), credential, ak_name)};
  }

  Result<AttestedKey> Run(const std::function<void(TpmEvidence&, const TpmChallenge&)>& tamper,
                          const std::string& device = "dev-1") {
    auto challenge = attestation->Begin("line-1", device, tpm.ek_der, tpm.ak_public);
    REQUIRE(challenge.has_value());
    TpmEvidence evidence = Answer(*challenge);
    tamper(evidence, *challenge);
    return attestation->Check("line-1", device, evidence, tpm.key.get());
  }
};

void RequireRefused(const Result<AttestedKey>& r, const std::string& reason) {
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == Code::kInvalidArgument);
  INFO(r.error().message());
  CHECK(r.error().message().find(reason) != std::string::npos);
}

TEST_CASE("honest evidence passes and is described for the record", "[attestation]") {
  Fixture f;
  CHECK(f.attestation->root_count() == 1);
  auto attested = f.Run([](TpmEvidence&, const TpmChallenge&) {});
  REQUIRE(attested.has_value());
  CHECK(attested->ek_sha256 == x509::Sha256(f.tpm.ek_der));
  CHECK(attested->ek_issuer.find("CN=TPM Maker Root") != std::string::npos);
  CHECK(attested->ak_name == tpm::ParsePublic(f.tpm.ak_public).value().name);
  CHECK(attested->certify_sha256 == x509::Sha256(attested->evidence.certify_info));
}

TEST_CASE(
    "a challenge is used once: the same evidence again gets the same answer, other "
    "evidence is refused",
    "[attestation]") {
  Fixture f;
  auto challenge = f.attestation->Begin("line-1", "dev-1", f.tpm.ek_der, f.tpm.ak_public);
  REQUIRE(challenge.has_value());
  TpmEvidence evidence = f.Answer(*challenge);
  REQUIRE(f.attestation->Check("line-1", "dev-1", evidence, f.tpm.key.get()).has_value());
  CHECK(f.attestation->Check("line-1", "dev-1", evidence, f.tpm.key.get()).has_value());
  TpmEvidence other = f.Answer(*challenge);  // a new ECDSA signature: other bytes
  RequireRefused(f.attestation->Check("line-1", "dev-1", other, f.tpm.key.get()), "used already");
  // Another station, another device, or no challenge at all.
  RequireRefused(f.attestation->Check("line-2", "dev-1", evidence, f.tpm.key.get()),
                 "no key attestation in progress");
  RequireRefused(f.attestation->Check("line-1", "dev-2", evidence, f.tpm.key.get()),
                 "no key attestation in progress");
}

TEST_CASE(
    "an EK certificate from another maker, or an AK that is not restricted, gets no "
    "challenge",
    "[attestation]") {
  Fixture f;
  Maker rogue;
  Tpm foreign(rogue);
  auto refused = f.attestation->Begin("line-1", "dev-1", foreign.ek_der, foreign.ak_public);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message().find("does not chain to a TPM maker root") != std::string::npos);

  Bytes loose = EccPublic(f.tpm.ak.get(), kMadeInTpm | TPMA_OBJECT_SIGN_ENCRYPT);
  refused = f.attestation->Begin("line-1", "dev-1", f.tpm.ek_der, loose);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message().find("not a restricted signing key") != std::string::npos);
  Bytes imported_ak = EccPublic(
      f.tpm.ak.get(), TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT);
  CHECK_FALSE(f.attestation->Begin("line-1", "dev-1", f.tpm.ek_der, imported_ak).has_value());
  CHECK_FALSE(f.attestation->Begin("line-1", "dev-1", Bytes{0x30, 0x00}, f.tpm.ak_public));
}

TEST_CASE("each broken piece of evidence is refused with its reason", "[attestation]") {
  Fixture f;
  auto key_name = tpm::ParsePublic(f.tpm.key_public).value().name;
  RequireRefused(f.Run([](TpmEvidence& e, const TpmChallenge&) { e.activated_secret[0] ^= 1; }),
                 "credential activation failed");
  RequireRefused(f.Run([&](TpmEvidence& e, const TpmChallenge&) {
    Bytes old_nonce(32, 7);
    auto c = testing::Certify(f.tpm.ak.get(), key_name, old_nonce);
    e.certify_info = c.attest;
    e.certify_signature = c.signature;
  }),
                 "replayed or stale");
  RequireRefused(f.Run([&](TpmEvidence& e, const TpmChallenge& c) {
    auto other = testing::TestKey("P-256");
    auto other_name =
        tpm::ParsePublic(EccPublic(other.get(), kMadeInTpm | TPMA_OBJECT_SIGN_ENCRYPT))
            .value()
            .name;
    auto certified = testing::Certify(f.tpm.ak.get(), other_name, c.nonce);
    e.certify_info = certified.attest;
    e.certify_signature = certified.signature;
  }),
                 "over another key");
  // A key loaded from outside (no sensitiveDataOrigin), or one that also decrypts, with a
  // certify over it that is otherwise right.
  for (auto [attributes, reason] :
       {std::pair{TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT, "not made in the TPM"},
        std::pair{kMadeInTpm | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_DECRYPT,
                  "not a signing-only key"}}) {
    RequireRefused(f.Run([&, attributes = attributes](TpmEvidence& e, const TpmChallenge& c) {
      e.key_public = EccPublic(f.tpm.key.get(), attributes);
      auto name = tpm::ParsePublic(e.key_public).value().name;
      auto certified = testing::Certify(f.tpm.ak.get(), name, c.nonce);
      e.certify_info = certified.attest;
      e.certify_signature = certified.signature;
    }),
                   reason);
  }
  RequireRefused(f.Run([&](TpmEvidence& e, const TpmChallenge& c) {
    auto other = testing::TestKey("P-256");
    auto certified = testing::Certify(other.get(), key_name, c.nonce);
    e.certify_signature = certified.signature;
  }),
                 "does not verify with the AK");
  RequireRefused(f.Run([&](TpmEvidence& e, const TpmChallenge& c) {
    auto quote = testing::Certify(f.tpm.ak.get(), key_name, c.nonce, TPM2_ST_ATTEST_QUOTE);
    e.certify_info = quote.attest;
    e.certify_signature = quote.signature;
  }),
                 "other than a TPM2_Certify");
  Tpm other_tpm(f.maker);
  RequireRefused(
      f.Run([&](TpmEvidence& e, const TpmChallenge&) { e.ek_certificate_der = other_tpm.ek_der; }),
      "names another EK or AK");

  // All of it right, for a key that is not the CSR's.
  auto challenge = f.attestation->Begin("line-1", "dev-9", f.tpm.ek_der, f.tpm.ak_public);
  REQUIRE(challenge.has_value());
  auto csr_key = testing::TestKey("P-256");
  RequireRefused(f.attestation->Check("line-1", "dev-9", f.Answer(*challenge), csr_key.get()),
                 "not the CSR's key");
}

TEST_CASE("one station cannot hold every challenge", "[attestation]") {
  Fixture f;
  size_t i = 0;
  for (; i < TpmAttestation::kMaxPendingPerStation; ++i) {
    REQUIRE(
        f.attestation->Begin("line-1", "dev-" + std::to_string(i), f.tpm.ek_der, f.tpm.ak_public));
  }
  auto refused =
      f.attestation->Begin("line-1", "dev-" + std::to_string(i), f.tpm.ek_der, f.tpm.ak_public);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code() == Code::kResourceExhausted);
  // A new challenge for a device that has one replaces it; another station is served.
  CHECK(f.attestation->Begin("line-1", "dev-0", f.tpm.ek_der, f.tpm.ak_public).has_value());
  CHECK(f.attestation->Begin("line-2", "dev-0", f.tpm.ek_der, f.tpm.ak_public).has_value());
}

TEST_CASE("key attestations on many threads at once", "[attestation]") {
  // Challenges made on 8 threads, answered here (Catch2's assertions are not for threads),
  // then checked on 8 threads, twice each (the second is a retry), beside new challenges.
  Fixture f;
  constexpr int kThreads = 8, kDevices = 10;
  auto device = [](int t, int i) { return "dev-" + std::to_string(t) + "-" + std::to_string(i); };
  std::vector<std::vector<std::optional<TpmChallenge>>> challenges(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kDevices; ++i) {
        auto c = f.attestation->Begin("line-1", device(t, i), f.tpm.ek_der, f.tpm.ak_public);
        challenges[t].push_back(c ? std::optional<TpmChallenge>(*c) : std::nullopt);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  threads.clear();
  std::vector<std::vector<TpmEvidence>> answers(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (const auto& c : challenges[t]) {
      REQUIRE(c.has_value());
      answers[t].push_back(f.Answer(*c));
    }
  }
  std::atomic<int> passed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kDevices; ++i) {
        for (int attempt = 0; attempt < 2; ++attempt) {
          if (f.attestation->Check("line-1", device(t, i), answers[t][i], f.tpm.key.get())) {
            ++passed;
          }
        }
        (void)f.attestation->Begin("line-2", device(t, i), f.tpm.ek_der, f.tpm.ak_public);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(passed == kThreads * kDevices * 2);
}

TEST_CASE("a roots directory without a root, or with a file that is no certificate, is refused",
          "[attestation]") {
  TempDir dir;
  CHECK_FALSE(TpmAttestation::Load(dir.path().string(), TestRandom).has_value());
  testing::WriteFile(dir / "junk.pem", "not a certificate", 0644);
  auto junk = TpmAttestation::Load(dir.path().string(), TestRandom);
  REQUIRE_FALSE(junk.has_value());
  CHECK(junk.error().message().find("junk.pem") != std::string::npos);
  CHECK_FALSE(TpmAttestation::Load((dir / "missing").string(), TestRandom).has_value());
}

}  // namespace
}  // namespace imprint::ca
