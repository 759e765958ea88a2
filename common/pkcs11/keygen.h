#pragma once
// Key generation inside the token. Private keys are created CKA_TOKEN, CKA_PRIVATE,
// CKA_SENSITIVE and not CKA_EXTRACTABLE (PKCS#11 3.0 4.9): they can sign but never leave.

#include <string>

#include "common/bytes.h"
#include "common/error.h"
#include "common/pkcs11/session_pool.h"

namespace imprint::p11 {

enum class KeyType { kEcP256, kEcP384, kRsa3072 };

// "P-256", "P-384", "RSA-3072" <-> KeyType; INVALID_ARGUMENT for anything else.
Result<KeyType> ParseKeyType(std::string_view name);
std::string_view KeyTypeName(KeyType type);

struct KeyPairHandles {
  CK_OBJECT_HANDLE public_key;
  CK_OBJECT_HANDLE private_key;
};

// Generates a signing key pair; both halves get `label` and `id`. Fails with ALREADY_EXISTS
// when a private key with that label already exists, so a second ceremony cannot shadow keys.
Result<KeyPairHandles> GenerateKeyPair(SessionPool::Lease& lease, KeyType type,
                                       const std::string& label, const Bytes& id);

// Generates a P-256 key pair whose private half only derives (CKM_ECDH1_DERIVE): sensitive, not
// extractable, never signs, decrypts or unwraps. ALREADY_EXISTS as above.
Result<KeyPairHandles> GenerateEcdhKeyPair(SessionPool::Lease& lease, const std::string& label,
                                           const Bytes& id);

// Generates a 256-bit generic secret key for HMAC-SHA-256 (CKM_SHA256_HMAC), sensitive and not
// extractable. ALREADY_EXISTS as above.
Result<CK_OBJECT_HANDLE> GenerateHmacKey(SessionPool::Lease& lease, const std::string& label,
                                         const Bytes& id);

// Destroys every key and data object (private, public, secret, data) labelled `label`;
// succeeds when none exists. Used when a device asks for a fresh key before it is committed,
// and to take back what a failed `imprint-ca init` made.
Status DestroyObjects(SessionPool::Lease& lease, const std::string& label);

}  // namespace imprint::p11
