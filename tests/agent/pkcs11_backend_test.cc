// The agent's pkcs11 key backend: the device key lives in a token standing in for a secure
// element, generated there and never extractable.

#include <catch2/catch.hpp>
#include <cstdlib>

#include "common/pkcs11/objects.h"
#include "common/rpc/status.h"
#include "common/x509/csr.h"
#include "device_agent/device.h"
#include "tests/support/build_paths.h"
#include "tests/support/softhsm_token.h"

namespace imprint::agent {
namespace {

TEST_CASE("a pkcs11-backed device key is made in the token and cannot leave it", "[agent-hsm]") {
  testing::SoftHsmToken token("secure-element");
  std::shared_ptr<p11::SessionPool> pool = token.OpenPool(2);
  auto store = DeviceStore::Open((token.dir() / "store").string());
  REQUIRE(store.has_value());
  auto device = Device::Open({"HW-7", "cam", "1.0", {}}, std::move(*store),
                             MakePkcs11KeyBackend(pool, "device:HW-7"));
  REQUIRE(device.has_value());
  Bytes first = (*device)->CreateKeyAndCsr("P-256", false).value();
  REQUIRE(x509::ParseAndVerifyCsr(first).has_value());
  CHECK_FALSE(std::filesystem::exists(token.dir() / "store" / "device-key.pem"));

  auto lease = pool->Acquire();
  auto key = p11::FindObject(*lease, CKO_PRIVATE_KEY, {std::string("device:HW-7"), std::nullopt});
  REQUIRE(key.has_value());
  CHECK(p11::GetAttribute(*lease, *key, CKA_EXTRACTABLE).value() == Bytes{CK_FALSE});
  CHECK(p11::GetAttribute(*lease, *key, CKA_SENSITIVE).value() == Bytes{CK_TRUE});
  CHECK_FALSE(p11::GetAttribute(*lease, *key, CKA_VALUE).has_value());

  // A fresh key replaces the old one in the token: exactly one key with the label remains.
  Bytes fresh = (*device)->CreateKeyAndCsr("P-256", true).value();
  CHECK(EVP_PKEY_eq(x509::ParseAndVerifyCsr(first)->public_key.get(),
                    x509::ParseAndVerifyCsr(fresh)->public_key.get()) != 1);
  CHECK(p11::FindObject(*lease, CKO_PRIVATE_KEY, {std::string("device:HW-7"), std::nullopt})
            .has_value());
}

TEST_CASE("a secure element's failure reaches the station as a reason, not 'internal error'",
          "[agent-hsm]") {
  testing::SoftHsmToken token("secure-element");
  std::string schedule = (token.dir() / "faults").string();
  testing::WriteFile(schedule, "general_error only C_GenerateKeyPair\n", 0644);
  ::setenv("IMPRINT_FAULT_SCHEDULE", schedule.c_str(), 1);
  ::setenv("IMPRINT_FAULT_REAL_MODULE", testing::kSoftHsmModule, 1);
  auto module = p11::Module::Load(testing::FaultModule()).value();
  auto slot = module->FindTokenSlot(p11::Uri::Parse("pkcs11:token=secure-element").value());
  REQUIRE(slot.has_value());
  std::shared_ptr<p11::SessionPool> pool =
      p11::SessionPool::Open(module, *slot, Secret::CopyOf(token.user_pin()), 2).value();
  auto store = DeviceStore::Open((token.dir() / "store").string());
  REQUIRE(store.has_value());
  auto device = Device::Open({"HW-8", "cam", "1.0", {}}, std::move(*store),
                             MakePkcs11KeyBackend(pool, "device:HW-8"));
  REQUIRE(device.has_value());

  auto csr = (*device)->CreateKeyAndCsr("P-256", false);
  REQUIRE_FALSE(csr.has_value());
  // What the agent's service sends the station (AgentService answers with rpc::ToGrpcStatus).
  grpc::Status sent = rpc::ToGrpcStatus(csr.error());
  INFO(sent.error_message());
  CHECK(sent.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(sent.error_message(),
             Catch::StartsWith("device key store: generating key device:HW-8 (P-256, "
                               "CKM_EC_KEY_PAIR_GEN): C_GenerateKeyPair: CKR_GENERAL_ERROR "
                               "(module " +
                               testing::FaultModule() + ")"));
  CHECK_THAT(sent.error_message(), !Catch::Contains(token.user_pin()));

  // Once the element recovers, the same device makes its key.
  testing::WriteFile(schedule, "none\n", 0644);
  ::setenv("IMPRINT_FAULT_SCHEDULE", (token.dir() / "no-faults").string().c_str(), 1);
  CHECK((*device)->CreateKeyAndCsr("P-256", false).has_value());
  ::unsetenv("IMPRINT_FAULT_SCHEDULE");
}

}  // namespace
}  // namespace imprint::agent
