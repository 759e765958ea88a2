#pragma once
// Finding token objects and reading public keys out of them.

#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/error.h"
#include "common/pkcs11/session_pool.h"
#include "common/x509/openssl_types.h"

namespace imprint::p11 {

// Which object: by CKA_LABEL, CKA_ID or both. At least one must be set.
struct ObjectRef {
  std::optional<std::string> label;
  std::optional<Bytes> id;

  std::string Describe() const;  // "label=ca-issuing", for messages
};

// The one object of `object_class` matching `ref`. NOT_FOUND if none, FAILED_PRECONDITION if
// several (an ambiguous label is a key-ceremony mistake to fix, not to guess around).
Result<CK_OBJECT_HANDLE> FindObject(SessionPool::Lease& lease, CK_OBJECT_CLASS object_class,
                                    const ObjectRef& ref);

// The public key stored in a public-key object (EC: CKA_EC_PARAMS + CKA_EC_POINT, RSA:
// CKA_MODULUS + CKA_PUBLIC_EXPONENT) as an OpenSSL key.
Result<x509::PkeyPtr> ReadPublicKey(SessionPool::Lease& lease, CK_OBJECT_HANDLE public_key);

// What a key's attributes say about where it can go (PKCS#11 3.0 4.8, 4.9).
struct KeyProtection {
  bool sensitive = false;
  bool extractable = true;
  bool never_extractable = false;
  bool always_sensitive = false;
};
Result<KeyProtection> ReadKeyProtection(SessionPool::Lease& lease, CK_OBJECT_CLASS object_class,
                                        const ObjectRef& ref);

// FAILED_PRECONDITION naming the key unless the `object_class` key found by `ref` is
// CKA_SENSITIVE, not CKA_EXTRACTABLE, and CKA_NEVER_EXTRACTABLE: it never could have been
// copied out (PKCS#11 3.0 4.9, private key attributes).
Status RequireKeyStaysInToken(SessionPool::Lease& lease, CK_OBJECT_CLASS object_class,
                              const ObjectRef& ref);

// Reads one attribute's value (two-call form, PKCS#11 3.0 5.7 C_GetAttributeValue).
Result<Bytes> GetAttribute(SessionPool::Lease& lease, CK_OBJECT_HANDLE object,
                           CK_ATTRIBUTE_TYPE type);

}  // namespace imprint::p11
