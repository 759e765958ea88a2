#pragma once
// Initialises a fresh token through PKCS#11 (C_InitToken, then C_InitPIN as SO), so tests and
// the demo line never pass a PIN on a command line. For SoftHSM and other test tokens only.

#include <string>

#include "common/error.h"
#include "common/pkcs11/module.h"

namespace imprint::testing {

// Takes the first uninitialised token, labels it and sets its SO and user PINs. Returns the
// slot the token is found in afterwards (SoftHSM renumbers it).
Result<CK_SLOT_ID> InitToken(const p11::Module& module, const std::string& label,
                             const std::string& so_pin, const std::string& user_pin);

}  // namespace imprint::testing
