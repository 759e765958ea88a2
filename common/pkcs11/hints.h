#pragma once
// What an operator can do about a failed PKCS#11 call. Module errors name the call and the
// CK_RV; the hint adds the module and, for the cases seen on the modules we test
// (docs/operations.md "Tested modules"), the likely cause and the fix. No hint contains a PIN or
// any other secret: it is built from the module's path, the call name and the CK_RV only.

#include <string>
#include <string_view>

#include "common/pkcs11/pkcs11.h"

namespace imprint::p11 {

enum class ModuleKind { kSoftHsm, kOpenCryptoki, kTpm2, kOther };

// Guessed from the library's file name (before C_Initialize, so it also works when that fails)
// and, when known, the manufacturer from C_GetInfo.
ModuleKind GuessModuleKind(std::string_view path, std::string_view manufacturer = {});

// The advice for `rv` from `call` on a module of `kind`; empty when there is none to give.
std::string RvHint(ModuleKind kind, std::string_view call, CK_RV rv);

// "CKM_EC_KEY_PAIR_GEN", or "CKM_0x..." for mechanisms this table does not know.
std::string MechanismName(CK_MECHANISM_TYPE mechanism);

}  // namespace imprint::p11
