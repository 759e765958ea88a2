#include "common/pkcs11/mechanisms.h"

#include <algorithm>

#include "common/pkcs11/hints.h"
#include "common/pkcs11/rv.h"

namespace imprint::p11 {
namespace {

std::string FlagNames(CK_FLAGS flags) {
  std::string names;
  auto add = [&](CK_FLAGS flag, const char* name) {
    if ((flags & flag) == 0) return;
    if (!names.empty()) names += "|";
    names += name;
  };
  add(CKF_GENERATE_KEY_PAIR, "CKF_GENERATE_KEY_PAIR");
  add(CKF_GENERATE, "CKF_GENERATE");
  add(CKF_SIGN, "CKF_SIGN");
  return names;
}

// Why `need` is not met, or empty when it is.
std::string Unmet(const Module& module, CK_SLOT_ID slot,
                  const std::vector<CK_MECHANISM_TYPE>& offered, const MechanismNeed& need) {
  std::string what = MechanismName(need.mechanism) + " (for " + need.purpose + ")";
  if (std::find(offered.begin(), offered.end(), need.mechanism) == offered.end()) {
    return what + ": not offered";
  }
  CK_MECHANISM_INFO info{};
  CK_RV rv = module.api()->C_GetMechanismInfo(slot, need.mechanism, &info);
  if (rv != CKR_OK) return what + ": C_GetMechanismInfo failed with " + RvName(rv);
  if ((info.flags & need.flags) != need.flags) {
    return what + ": offered without " + FlagNames(need.flags & ~info.flags);
  }
  // RSA sizes are in bits (PKCS#11 3.0 2.1); a zero maximum means the token did not say.
  if (need.key_bits != 0 && info.ulMaxKeySize != 0 &&
      (need.key_bits < info.ulMinKeySize || need.key_bits > info.ulMaxKeySize)) {
    return what + ": " + std::to_string(need.key_bits) + "-bit keys are outside the token's " +
           std::to_string(info.ulMinKeySize) + ".." + std::to_string(info.ulMaxKeySize);
  }
  return {};
}

// Adds `need`, or its purpose to an equal need already listed, so several keys of one type
// name a missing mechanism once.
void Add(TokenNeeds& needs, MechanismNeed need) {
  for (MechanismNeed& listed : needs.mechanisms) {
    if (listed.mechanism == need.mechanism && listed.flags == need.flags &&
        listed.key_bits == need.key_bits) {
      listed.purpose += ", " + need.purpose;
      return;
    }
  }
  needs.mechanisms.push_back(std::move(need));
}

}  // namespace

void AddSigningKeyNeeds(TokenNeeds& needs, KeyType type, const std::string& purpose) {
  std::string what = purpose + " " + std::string(KeyTypeName(type));
  if (type == KeyType::kRsa3072) {
    Add(needs, {CKM_RSA_PKCS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR, 3072, what});
    Add(needs, {CKM_RSA_PKCS, CKF_SIGN, 3072, what});
  } else {
    Add(needs, {CKM_EC_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR, 0, what});
    Add(needs, {CKM_ECDSA, CKF_SIGN, 0, what});
  }
}

void AddHmacKeyNeeds(TokenNeeds& needs, const std::string& purpose) {
  std::string what = purpose + " HMAC-SHA-256";
  Add(needs, {CKM_GENERIC_SECRET_KEY_GEN, CKF_GENERATE, 0, what});
  Add(needs, {CKM_SHA256_HMAC, CKF_SIGN, 0, what});
}

Status RequireMechanisms(const Module& module, CK_SLOT_ID slot, const TokenNeeds& needs) {
  CK_ULONG count = 0;
  IMPRINT_RETURN_IF_ERROR(
      module.Check("C_GetMechanismList", module.api()->C_GetMechanismList(slot, nullptr, &count)));
  std::vector<CK_MECHANISM_TYPE> offered(count);
  IMPRINT_RETURN_IF_ERROR(module.Check(
      "C_GetMechanismList", module.api()->C_GetMechanismList(slot, offered.data(), &count)));
  offered.resize(count);

  std::vector<std::string> unmet;
  for (const MechanismNeed& need : needs.mechanisms) {
    if (std::string why = Unmet(module, slot, offered, need); !why.empty()) unmet.push_back(why);
  }
  CK_TOKEN_INFO token{};
  IMPRINT_RETURN_IF_ERROR(
      module.Check("C_GetTokenInfo", module.api()->C_GetTokenInfo(slot, &token)));
  if (needs.random && (token.flags & CKF_RNG) == 0) {
    unmet.push_back("C_GenerateRandom: the token has no random number generator (CKF_RNG)");
  }
  if (unmet.empty()) return {};
  std::string message = "token " + TrimPadded(token.label, sizeof(token.label)) + " in module " +
                        module.path() + " lacks what is needed:";
  for (const std::string& why : unmet) message += "\n  - " + why;
  return Fail(Code::kFailedPrecondition, std::move(message));
}

}  // namespace imprint::p11
