// The agent's pkcs11 key backend: the device key lives in a token standing in for a secure
// element, generated there and never extractable.

#include <catch2/catch.hpp>

#include "common/pkcs11/objects.h"
#include "common/x509/csr.h"
#include "device_agent/device.h"
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

}  // namespace
}  // namespace imprint::agent
