#pragma once
// The one place a CK_RV becomes an imprint Error (PKCS#11 3.0 section 5.1 lists the codes).

#include <string_view>

#include "common/error.h"
#include "common/pkcs11/pkcs11.h"

namespace imprint::p11 {

// "CKR_SESSION_HANDLE_INVALID", or "CKR_0x..." for codes this table does not know.
std::string RvName(CK_RV rv);

// An Error for a failed call: "C_Sign: CKR_DEVICE_ERROR". Transient token faults map to
// UNAVAILABLE (retryable), a wrong PIN to PERMISSION_DENIED, a missing object to NOT_FOUND,
// bad arguments to INVALID_ARGUMENT, the rest to INTERNAL.
Error RvError(std::string_view call, CK_RV rv);

// RvError with the module that failed and, where known, what to do: "C_Login: CKR_PIN_INCORRECT
// (module /usr/lib/softhsm/libsofthsm2.so). Hint: wrong PIN ...". `module_path` is the path the
// module was loaded from; its kind (GuessModuleKind) picks the hint.
Error ModuleRvError(std::string_view module_path, std::string_view manufacturer,
                    std::string_view call, CK_RV rv);

// True for results after which a session must not be used again: the pool closes it and opens
// (and logs in) a fresh one.
bool IsSessionFault(CK_RV rv);

// Status for `rv`: success for CKR_OK, RvError otherwise.
inline Status CheckRv(std::string_view call, CK_RV rv) {
  if (rv == CKR_OK) return {};
  return std::unexpected(RvError(call, rv));
}

}  // namespace imprint::p11
