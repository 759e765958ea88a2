#include "common/pkcs11/session_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "common/pkcs11/keygen.h"
#include "common/pkcs11/signer.h"
#include "tests/support/softhsm_token.h"

namespace imprint::p11 {
namespace {

using testing::SoftHsmToken;

std::unique_ptr<Pkcs11Signer> MakeSigner(SessionPool& pool) {
  {
    auto lease = pool.Acquire();
    REQUIRE(GenerateKeyPair(*lease, KeyType::kEcP256, "ca", Bytes{7}).has_value());
  }
  auto signer = Pkcs11Signer::Create(pool, ObjectRef{"ca", std::nullopt});
  REQUIRE(signer.has_value());
  return std::move(*signer);
}

bool SignsAndVerifies(Pkcs11Signer& signer, const Bytes& message) {
  auto signature = signer.Sign(message);
  if (!signature) return false;
  return x509::VerifySignature(signer.public_key(), signer.algorithm(), message, *signature)
      .has_value();
}

TEST_CASE("many threads signing through a small pool all get valid signatures", "[pool]") {
  SoftHsmToken token;
  auto pool = token.OpenPool(2);
  auto signer = MakeSigner(*pool);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<int> good(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Bytes message = {static_cast<uint8_t>(t), static_cast<uint8_t>(i)};
        if (SignsAndVerifies(*signer, message)) ++good[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) CHECK(good[t] == kPerThread);
  CHECK(pool->reopened() == 0);
}

TEST_CASE("leases are exclusive: a pool of one serialises its callers", "[pool]") {
  SoftHsmToken token;
  auto pool = token.OpenPool(1);
  auto first = pool->Acquire();
  REQUIRE(first.has_value());
  CK_SESSION_HANDLE held = first->handle();
  std::atomic<bool> acquired{false};
  std::thread waiter([&] {
    auto second = pool->Acquire();
    acquired = true;
    CHECK(second->handle() == held);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(acquired.load());
  { auto release = std::move(*first); }
  waiter.join();
  CHECK(acquired.load());
}

TEST_CASE("a session closed behind the pool's back is replaced and logged in again", "[pool]") {
  SoftHsmToken token;
  auto pool = token.OpenPool(1);
  auto signer = MakeSigner(*pool);
  {
    auto lease = pool->Acquire();
    // Closing the only session also logs the application out (PKCS#11 3.0 5.6).
    REQUIRE(lease->api()->C_CloseSession(lease->handle()) == CKR_OK);
  }
  CHECK(SignsAndVerifies(*signer, Bytes{1, 2, 3}));
  CHECK(pool->reopened() == 1);
  CHECK(SignsAndVerifies(*signer, Bytes{4, 5, 6}));
  CHECK(pool->reopened() == 1);
}

TEST_CASE("all sessions closed at once are recovered one by one", "[pool]") {
  SoftHsmToken token;
  auto pool = token.OpenPool(2);
  auto signer = MakeSigner(*pool);
  {
    auto a = pool->Acquire();
    auto b = pool->Acquire();  // make the pool open its second session
    REQUIRE(a->api()->C_CloseAllSessions(token.slot()) == CKR_OK);
  }
  for (int i = 0; i < 6; ++i) CHECK(SignsAndVerifies(*signer, Bytes{static_cast<uint8_t>(i)}));
  CHECK(pool->reopened() == 2);
}

TEST_CASE("a fault recorded on a lease discards that session", "[pool]") {
  SoftHsmToken token;
  auto pool = token.OpenPool(1);
  {
    auto lease = pool->Acquire();
    auto status = lease->Check("C_Sign", CKR_DEVICE_ERROR);
    REQUIRE_FALSE(status.has_value());
    CHECK(status.error().code() == Code::kUnavailable);
    CHECK(status.error().message() ==
          std::string("C_Sign: CKR_DEVICE_ERROR (module ") + testing::kSoftHsmModule + ")");
    CHECK(lease->broken());
  }
  CHECK(pool->reopened() == 1);
  auto lease = pool->Acquire();
  REQUIRE(lease.has_value());
  CK_SESSION_INFO info{};
  REQUIRE(lease->api()->C_GetSessionInfo(lease->handle(), &info) == CKR_OK);
  CHECK(info.state == CKS_RW_USER_FUNCTIONS);
}

}  // namespace
}  // namespace imprint::p11
