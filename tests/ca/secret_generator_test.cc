#include "ca/secret_generator.h"

#include <catch2/catch.hpp>
#include <map>

#include "ca/config.h"

namespace imprint::ca {
namespace {

TEST_CASE("the password alphabet has no look-alike characters", "[secrets]") {
  CHECK(kPasswordAlphabet.size() == 55);
  for (char c : std::string("01ilIoO")) CHECK(kPasswordAlphabet.find(c) == std::string::npos);
  CHECK(PasswordEntropyBits(12) >= 64.0);
  CHECK(PasswordEntropyBits(11) < 64.0);
}

TEST_CASE("passwords map random bytes without modulo bias", "[secrets]") {
  // Bytes at or above 220 (4 * 55) must be skipped, not folded onto the first symbols.
  Bytes script = {219, 220, 255, 0, 54, 55};
  size_t offset = 0;
  RandomSource random = [&](size_t n) -> Result<Bytes> {
    Bytes out;
    for (size_t i = 0; i < n; ++i) out.push_back(script[(offset + i) % script.size()]);
    offset += n;
    return out;
  };
  auto password = DrawPassword(random, 4);
  REQUIRE(password.has_value());
  // 219 % 55 = 54 -> 'Z'; 220, 255 skipped; 0 -> '2'; 54 -> 'Z'; 55 -> '2'
  CHECK(password->Reveal() == "Z2Z2");
}

TEST_CASE("a random source that only yields rejected bytes fails instead of looping", "[secrets]") {
  RandomSource stuck = [](size_t n) -> Result<Bytes> { return Bytes(n, 0xff); };
  auto password = DrawPassword(stuck, 14);
  REQUIRE_FALSE(password.has_value());
  CHECK(password.error().code() == Code::kUnavailable);
}

TEST_CASE("verifier messages bind device and secret name", "[secrets]") {
  auto text = [](std::string_view d, std::string_view n, std::string_view v) {
    return std::string(VerifierMessage(d, n, v).Reveal());
  };
  CHECK(text("dev-1", "default_password", "pw") != text("dev-2", "default_password", "pw"));
  CHECK(text("dev-1", "a", "bc") != text("dev-1", "ab", "c"));
  CHECK(text("d", "n", "v") == std::string("imprint-secret-v1\0d\0n\0v", 23));
}

}  // namespace
}  // namespace imprint::ca
