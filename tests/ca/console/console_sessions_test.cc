// Console passwords and sessions on their own: scrypt hashes that verify only the right
// password and refuse anything malformed; sessions that end when idle or logged out.

#include <catch2/catch.hpp>
#include <thread>

#include "ca/console/password.h"
#include "ca/console/sessions.h"
#include "ca/console/users.h"

namespace imprint::ca {
namespace {

TEST_CASE("passwords are kept as salted scrypt hashes", "[console]") {
  auto hash = HashPassword("correct horse battery");
  REQUIRE(hash.has_value());
  CHECK(hash->starts_with("$scrypt$ln=15,r=8,p=1$"));
  CHECK(hash->find("correct") == std::string::npos);
  CHECK(VerifyPassword(*hash, "correct horse battery"));
  CHECK_FALSE(VerifyPassword(*hash, "correct horse batterY"));
  CHECK_FALSE(VerifyPassword(*hash, ""));
  CHECK(*HashPassword("correct horse battery") != *hash);  // a fresh salt each time
  // Anything malformed verifies nothing: a cut hash, other parameters, another scheme.
  CHECK_FALSE(VerifyPassword(hash->substr(0, hash->size() - 2), "correct horse battery"));
  std::string cheap = *hash;
  cheap.replace(cheap.find("ln=15"), 5, "ln=1");
  CHECK_FALSE(VerifyPassword(cheap, "correct horse battery"));
  CHECK_FALSE(VerifyPassword("$plain$correct horse battery", "correct horse battery"));
  CHECK_FALSE(VerifyPassword("", ""));
}

TEST_CASE("sessions end when idle, when removed, and are not guessable", "[console]") {
  SessionStore store(std::chrono::seconds(1));
  std::string id = store.Create("olga", ConsoleRole::kOperator, true, "c1");
  CHECK(id.size() == 43);  // 32 random bytes, base64url
  auto s = store.Use(id);
  REQUIRE(s.has_value());
  CHECK(s->user == "olga");
  CHECK(s->must_change);
  CHECK(s->csrf.size() == 43);
  CHECK(s->csrf != id);
  CHECK(s->credential == "c1");
  store.PasswordChanged(id, "c2");
  CHECK_FALSE(store.Use(id)->must_change);
  CHECK(store.Use(id)->credential == "c2");
  CHECK_FALSE(store.Use(id + "x").has_value());
  CHECK_FALSE(store.Use("").has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the idle timeout itself
  CHECK_FALSE(store.Use(id).has_value());
  std::string other = store.Create("victor", ConsoleRole::kViewer, false, "c3");
  store.Remove(other);
  CHECK_FALSE(store.Use(other).has_value());
}

TEST_CASE("failed logins from one address are limited", "[console]") {
  LoginLimiter limiter;
  for (int i = 0; i < LoginLimiter::kMaxFailures; ++i) {
    CHECK(limiter.Begin("ipv4:10.0.0.7"));
    limiter.End("ipv4:10.0.0.7", true);
  }
  CHECK_FALSE(limiter.Begin("ipv4:10.0.0.7"));
  CHECK(limiter.Begin("ipv4:10.0.0.8"));  // another address is not held back
  limiter.End("ipv4:10.0.0.8", false);
}

TEST_CASE("guesses in flight count against the limit; a right one forgives nothing", "[console]") {
  LoginLimiter limiter;
  // Sixteen guesses at once: only kMaxFailures get to check a password.
  int begun = 0;
  for (int i = 0; i < 16; ++i) begun += limiter.Begin("ipv4:10.0.0.9") ? 1 : 0;
  CHECK(begun == LoginLimiter::kMaxFailures);
  // One of them was right: its reservation is freed, the four wrong ones stay counted.
  limiter.End("ipv4:10.0.0.9", false);
  for (int i = 1; i < begun; ++i) limiter.End("ipv4:10.0.0.9", true);
  CHECK(limiter.Begin("ipv4:10.0.0.9"));  // the fifth guess
  limiter.End("ipv4:10.0.0.9", true);
  CHECK_FALSE(limiter.Begin("ipv4:10.0.0.9"));
}

}  // namespace
}  // namespace imprint::ca
