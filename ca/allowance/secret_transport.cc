#include "ca/allowance/secret_transport.h"

#include "ca/config.h"
#include "common/pkcs11/keygen.h"

namespace imprint::ca {
namespace {

const p11::ObjectRef kRef{kSecretTransportKeyLabel, std::nullopt};
constexpr uint8_t kKeyId = 5;  // init's keys are 1-4

}  // namespace

Status EnsureSecretTransportKey(CaHsm& hsm, WriteContext& ctx) {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, hsm.pool().Acquire());
  auto existing = p11::FindObject(lease, CKO_PRIVATE_KEY, kRef);
  if (existing) return {};
  if (existing.error().code() != Code::kNotFound) return std::unexpected(existing.error());
  IMPRINT_RETURN_IF_ERROR(p11::GenerateEcdhKeyPair(lease, kSecretTransportKeyLabel, Bytes{kKeyId}));
  IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "key.generated",
                                    {{"label", kSecretTransportKeyLabel}, {"type", "P-256 ECDH"}}));
  return {};
}

Result<std::unique_ptr<p11::EcdhKey>> FindSecretTransportKey(CaHsm& hsm) {
  return p11::EcdhKey::Find(hsm.pool(), kRef);
}

}  // namespace imprint::ca
