#pragma once
// The CA's secret-transport key (docs/offline.md, "Passwords"): a P-256 key pair in the CA's
// token whose private half only derives (ECDH). The signed allowance names its public key; an
// offline station seals each device's default password to it (common/offline/sealed_secret.h);
// reconcile opens the sealed value in the token and keeps only the keyed verifier, as for an
// online device. The first `allowance grant` makes it.

#include <memory>

#include "ca/audit/write_context.h"
#include "ca/hsm.h"
#include "common/pkcs11/ecdh.h"

namespace imprint::ca {

// Makes the key when the token has none yet, audited as key.generated. Inside the grant's write.
Status EnsureSecretTransportKey(CaHsm& hsm, WriteContext& ctx);

// NOT_FOUND when the token has none (no grant since this version); FAILED_PRECONDITION when
// its private key is, or ever was, extractable.
Result<std::unique_ptr<p11::EcdhKey>> FindSecretTransportKey(CaHsm& hsm);

}  // namespace imprint::ca
