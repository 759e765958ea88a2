#pragma once
// Per-device secrets (EN 303 645 provisions 5.1-1/5.1-2): default passwords drawn from the
// HSM's random generator (common/password.h), and the keyed verifier that is all the CA keeps
// of them.

#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/error.h"
#include "common/password.h"
#include "common/secret.h"

namespace imprint::ca {

using imprint::DrawPassword;
using imprint::kPasswordAlphabet;
using imprint::RandomSource;

// The name of the one secret every device gets.
inline constexpr const char* kDefaultPasswordName = "default_password";

// The message the verifier MACs: "imprint-secret-v1\0" || device_id || "\0" || name || "\0"
// || value. Binding the device and name stops a verifier from being moved to another device.
// It holds the secret, so it is a Secret.
Secret VerifierMessage(std::string_view device_id, std::string_view name, std::string_view value);

}  // namespace imprint::ca
