// Matter passcodes, SPAKE2+ verifiers and onboarding codes against the values the Matter
// specification's examples and connectedhomeip's documentation quote; tests/matter checks
// random ones with matter.js as well.

#include <catch2/catch.hpp>
#include <deque>
#include <functional>

#include "common/base64.h"
#include "common/matter/onboarding.h"
#include "common/matter/passcode.h"
#include "common/matter/spake2p.h"

namespace imprint::matter {
namespace {

// A random source that returns the queued 32-bit values (big-endian), then fails.
class QueuedRandom {
 public:
  explicit QueuedRandom(std::deque<uint32_t> values) : values_(std::move(values)) {}
  Result<Bytes> operator()(size_t count) {
    if (count != 4) return Fail(Code::kInternal, "unexpected read size");
    if (values_.empty()) return Fail(Code::kUnavailable, "random source exhausted");
    uint32_t v = values_.front();
    values_.pop_front();
    return Bytes{static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                 static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  }

 private:
  std::deque<uint32_t> values_;
};

TEST_CASE("forbidden passcodes are refused", "[matter]") {
  for (uint32_t bad : {0u, 11111111u, 22222222u, 33333333u, 44444444u, 55555555u, 66666666u,
                       77777777u, 88888888u, 99999999u, 12345678u, 87654321u, 99999999u + 1}) {
    CHECK_FALSE(IsValidPasscode(bad));
  }
  CHECK(IsValidPasscode(1));
  CHECK(IsValidPasscode(20202021));
  CHECK(IsValidPasscode(kMaxPasscode));
}

TEST_CASE("the passcode generator skips every forbidden value the source gives first", "[matter]") {
  std::deque<uint32_t> forbidden_first = {0,        11111111, 22222222,      33333333, 44444444,
                                          55555555, 66666666, 77777777,      88888888, 99999999,
                                          12345678, 87654321, (1u << 27) - 1};  // above 99999998
  for (size_t i = 0; i < forbidden_first.size(); ++i) {
    // Each forbidden value first (its bits as the source gives them), then a valid one.
    QueuedRandom source({forbidden_first[i], 20202021});
    auto passcode = DrawPasscode(std::ref(source));
    REQUIRE(passcode.has_value());
    CHECK(*passcode == 20202021);
  }
  // All of them in a row, then a valid one: still only the valid one comes out.
  std::deque<uint32_t> all = forbidden_first;
  all.push_back(34567890);
  QueuedRandom source(all);
  CHECK(DrawPasscode(std::ref(source)).value() == 34567890);
}

TEST_CASE("the passcode generator uses only 27 bits and fails loudly on a broken source",
          "[matter]") {
  // High bits set above bit 27 are dropped: 0xF8000000 | 20202021 is 20202021.
  QueuedRandom high({0xF8000000u | 20202021u});
  CHECK(DrawPasscode(std::ref(high)).value() == 20202021);

  // A source stuck on a forbidden value never yields it.
  std::deque<uint32_t> stuck(64, 12345678);
  QueuedRandom stuck_source(stuck);
  auto none = DrawPasscode(std::ref(stuck_source));
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().code() == Code::kInternal);

  QueuedRandom empty({});
  auto failed = DrawPasscode(std::ref(empty));
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().code() == Code::kUnavailable);  // the source's own error

  QueuedRandom disc({0xABCDE123u});
  CHECK(DrawDiscriminator(std::ref(disc)).value() == 0x123);
}

TEST_CASE("the SPAKE2+ verifier equals the one connectedhomeip's documentation quotes",
          "[matter]") {
  // 20202021, salt "SPAKE2P Key Salt", 1000 iterations: the verifier in connectedhomeip's
  // examples (and what matter.js's Spake2p.computeW0L gives).
  std::string salt = "SPAKE2P Key Salt";
  auto verifier = ComputeVerifier(20202021, AsBytes(salt), 1000);
  REQUIRE(verifier.has_value());
  CHECK(verifier->size() == kVerifierBytes);
  CHECK(Base64Encode(*verifier) ==
        "uWFwqugDNGiEck/po7KHwwMwwqZgN10XuyBajPGuyzUEV/iree4lOrao5GuwnlQ65CJzbeUB49s31EH+"
        "NEkg0JVI5MGCQGMMT/SRPFNRODm3wH/MBiehuFc6FJ/NH6Rmzw==");
}

TEST_CASE("SPAKE2+ parameters outside the specification's ranges are refused", "[matter]") {
  Bytes salt16(16, 0x5a), salt15(15, 0x5a), salt33(33, 0x5a), salt32(32, 0x5a);
  CHECK(ComputeVerifier(20202021, salt16, 1000).has_value());
  CHECK(ComputeVerifier(20202021, salt32, 100000).has_value());
  CHECK(ComputeVerifier(20202021, salt15, 1000).error().code() == Code::kInvalidArgument);
  CHECK(ComputeVerifier(20202021, salt33, 1000).error().code() == Code::kInvalidArgument);
  CHECK(ComputeVerifier(20202021, salt16, 999).error().code() == Code::kInvalidArgument);
  CHECK(ComputeVerifier(20202021, salt16, 100001).error().code() == Code::kInvalidArgument);
  CHECK(ComputeVerifier(12345678, salt16, 1000).error().code() == Code::kInvalidArgument);
}

TEST_CASE("onboarding codes equal the specification's example", "[matter]") {
  OnboardingPayload p{.vendor_id = 0xFFF1,
                      .product_id = 0x8000,
                      .flow = 0,
                      .discovery = kDiscoveryBle,
                      .discriminator = 3840,
                      .passcode = 20202021};
  CHECK(QrCodePayload(p).value() == "MT:Y.K9042C00KA0648G00");
  CHECK(ManualPairingCode(p).value() == "34970112332");

  // Only the discriminator's upper four bits reach the manual code.
  p.discriminator = 3840 + 0xFF;
  CHECK(ManualPairingCode(p).value() == "34970112332");
  CHECK(QrCodePayload(p).value() != "MT:Y.K9042C00KA0648G00");
}

TEST_CASE("onboarding codes refuse what a device could not be commissioned with", "[matter]") {
  OnboardingPayload p{
      .vendor_id = 0xFFF1, .product_id = 0x8000, .discriminator = 1, .passcode = 11111111};
  CHECK(QrCodePayload(p).error().code() == Code::kInvalidArgument);
  CHECK(ManualPairingCode(p).error().code() == Code::kInvalidArgument);
  p.passcode = 20202021;
  p.discriminator = 4096;
  CHECK(QrCodePayload(p).error().code() == Code::kInvalidArgument);
  p.discriminator = 1;
  p.flow = 3;
  CHECK(QrCodePayload(p).error().code() == Code::kInvalidArgument);
}

TEST_CASE("manual codes stay 11 digits at the ends of the passcode and discriminator ranges",
          "[matter]") {
  for (uint32_t passcode : {1u, 16383u, 16384u, kMaxPasscode}) {
    for (uint16_t discriminator : {uint16_t{0}, kMaxDiscriminator}) {
      OnboardingPayload p{.vendor_id = 0xFFF1,
                          .product_id = 0x8000,
                          .discriminator = discriminator,
                          .passcode = passcode};
      std::string code = ManualPairingCode(p).value();
      CHECK(code.size() == 11);
      CHECK(code.find_first_not_of("0123456789") == std::string::npos);
      CHECK(QrCodePayload(p).value().size() == 3 + 19);
    }
  }
}

}  // namespace
}  // namespace imprint::matter
