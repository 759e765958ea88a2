#include "common/pkcs11/hints.h"

#include <cstdio>

namespace imprint::p11 {
namespace {

// Hints that depend on the module: the failures seen while testing each one.
std::string ModuleHint(ModuleKind kind, std::string_view call, CK_RV rv) {
  switch (kind) {
    case ModuleKind::kOpenCryptoki:
      if (call == "C_Initialize") {
        return "opencryptoki needs its slot daemon: start pkcsslotd (systemctl start pkcsslotd) "
               "and run as root or a member of group pkcs11";
      }
      if (rv == CKR_PIN_EXPIRED) {
        return "opencryptoki refuses its default PINs: set the user PIN with pkcsconf -c SLOT -p";
      }
      return {};
    case ModuleKind::kTpm2:
      if (call == "C_Initialize" || rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_ERROR) {
        return "tpm2-pkcs11 cannot reach the TPM: check TPM2_PKCS11_TCTI (e.g. "
               "tabrmd:bus_type=system), that tpm2-abrmd is running, and TPM2_PKCS11_STORE";
      }
      if (rv == CKR_GENERAL_ERROR || rv == CKR_HOST_MEMORY || rv == CKR_DEVICE_MEMORY) {
        return "tpm2-pkcs11 reports most TPM failures this way; if the log of the process "
               "using the module says "
               "\"out of memory for object contexts\", the resource manager's limit of objects "
               "loaded per connection is reached (tpm2-abrmd --max-transients, default 27): "
               "keep fewer keys in use per process, or restart it";
      }
      return {};
    case ModuleKind::kSoftHsm:
      if (call == "C_Initialize") {
        return "SoftHSM cannot read its configuration: check SOFTHSM2_CONF and that its "
               "tokendir exists and is readable";
      }
      return {};
    case ModuleKind::kOther:
      return {};
  }
  return {};
}

std::string GeneralHint(std::string_view call, CK_RV rv) {
  switch (rv) {
    case CKR_PIN_INCORRECT:
      return "wrong PIN for this token: check the PIN file (repeated wrong PINs can lock the "
             "token)";
    case CKR_PIN_LOCKED:
      return "the user PIN is locked after too many wrong PINs: the token's security officer "
             "must unlock or reset it";
    case CKR_PIN_EXPIRED:
      return "the token wants its PIN changed before use";
    case CKR_PIN_LEN_RANGE:
      return "the PIN's length is outside what this token accepts (C_GetTokenInfo "
             "ulMinPinLen..ulMaxPinLen)";
    case CKR_USER_PIN_NOT_INITIALIZED:
      return "the token has no user PIN yet: its security officer must set one (C_InitPIN)";
    case CKR_MECHANISM_INVALID:
      return "the token does not offer this mechanism; docs/operations.md lists what each "
             "tested module supports";
    case CKR_KEY_SIZE_RANGE:
      return "the token does not support this key size";
    case CKR_SESSION_COUNT:
      return "the token has no free sessions: lower [hsm] sessions or close other clients";
    case CKR_DEVICE_MEMORY:
      return "the token is out of memory or storage for objects";
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_REMOVED:
      return "the token is gone: check the HSM's connection";
    case CKR_TOKEN_WRITE_PROTECTED:
      return "the token is write-protected";
    default:
      break;
  }
  if (call == "C_Initialize") return "the module could not start: check its configuration";
  return {};
}

struct MechanismEntry {
  CK_MECHANISM_TYPE mechanism;
  const char* name;
};

constexpr MechanismEntry kMechanisms[] = {
    {CKM_RSA_PKCS_KEY_PAIR_GEN, "CKM_RSA_PKCS_KEY_PAIR_GEN"},
    {CKM_RSA_PKCS, "CKM_RSA_PKCS"},
    {CKM_RSA_PKCS_PSS, "CKM_RSA_PKCS_PSS"},
    {CKM_EC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN"},
    {CKM_ECDSA, "CKM_ECDSA"},
    {CKM_GENERIC_SECRET_KEY_GEN, "CKM_GENERIC_SECRET_KEY_GEN"},
    {CKM_SHA256_HMAC, "CKM_SHA256_HMAC"},
};

}  // namespace

ModuleKind GuessModuleKind(std::string_view path, std::string_view manufacturer) {
  if (path.contains("softhsm") || manufacturer.contains("SoftHSM")) return ModuleKind::kSoftHsm;
  if (path.contains("opencryptoki") || path.contains("PKCS11_API")) {
    return ModuleKind::kOpenCryptoki;
  }
  if (path.contains("tpm2_pkcs11") || path.contains("tpm2-pkcs11") ||
      manufacturer.contains("tpm2-software")) {
    return ModuleKind::kTpm2;
  }
  return ModuleKind::kOther;
}

std::string RvHint(ModuleKind kind, std::string_view call, CK_RV rv) {
  std::string hint = ModuleHint(kind, call, rv);
  return hint.empty() ? GeneralHint(call, rv) : hint;
}

std::string MechanismName(CK_MECHANISM_TYPE mechanism) {
  for (const auto& e : kMechanisms) {
    if (e.mechanism == mechanism) return e.name;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "CKM_0x%lx", static_cast<unsigned long>(mechanism));
  return buffer;
}

}  // namespace imprint::p11
