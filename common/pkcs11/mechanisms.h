#pragma once
// Checking, before any key is made, that a token offers every mechanism a job will need
// (C_GetMechanismList, C_GetMechanismInfo; PKCS#11 3.0 5.5). A token that lacks one fails the
// whole check with one message naming each missing mechanism and what it was for, so a key
// ceremony never stops half-way on a token that could not have finished it.

#include <string>
#include <vector>

#include "common/error.h"
#include "common/pkcs11/keygen.h"
#include "common/pkcs11/module.h"

namespace imprint::p11 {

struct MechanismNeed {
  CK_MECHANISM_TYPE mechanism;
  CK_FLAGS flags;         // what it must do: CKF_GENERATE_KEY_PAIR, CKF_GENERATE, CKF_SIGN
  CK_ULONG key_bits = 0;  // an RSA modulus size it must support; 0: not checked
  std::string purpose;    // "imprint-issuing RSA-3072, imprint-audit RSA-3072"
};

struct TokenNeeds {
  std::vector<MechanismNeed> mechanisms;
  bool random = false;  // C_GenerateRandom (CKF_RNG)
};

// What generating and signing with a key of `type` needs, for `purpose`.
void AddSigningKeyNeeds(TokenNeeds& needs, KeyType type, const std::string& purpose);
// What generating and using an HMAC-SHA-256 key (GenerateHmacKey, HmacKey) needs.
void AddHmacKeyNeeds(TokenNeeds& needs, const std::string& purpose);

// FAILED_PRECONDITION naming the module, the token and every unmet need; ok when all are met.
Status RequireMechanisms(const Module& module, CK_SLOT_ID slot, const TokenNeeds& needs);

}  // namespace imprint::p11
