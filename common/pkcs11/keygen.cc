#include "common/pkcs11/keygen.h"

#include <vector>

#include "common/pkcs11/hints.h"
#include "common/pkcs11/objects.h"

namespace imprint::p11 {
namespace {

// DER-encoded curve OIDs for CKA_EC_PARAMS (RFC 5480 2.1.1.1).
const Bytes kP256Oid = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
const Bytes kP384Oid = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

CK_BBOOL kTrue = CK_TRUE;
CK_BBOOL kFalse = CK_FALSE;

Status RefuseDuplicate(SessionPool::Lease& lease, CK_OBJECT_CLASS object_class,
                       const std::string& label) {
  auto existing = FindObject(lease, object_class, ObjectRef{label, std::nullopt});
  if (existing) return Fail(Code::kAlreadyExists, "token already holds a key labelled " + label);
  if (existing.error().code() != Code::kNotFound) return std::unexpected(existing.error());
  return {};
}

CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const void* value, size_t size) {
  return {type, const_cast<void*>(value), static_cast<CK_ULONG>(size)};
}

}  // namespace

Result<KeyType> ParseKeyType(std::string_view name) {
  if (name == "P-256") return KeyType::kEcP256;
  if (name == "P-384") return KeyType::kEcP384;
  if (name == "RSA-3072") return KeyType::kRsa3072;
  return Fail(Code::kInvalidArgument,
              "unknown key type " + std::string(name) + " (P-256, P-384 or RSA-3072)");
}

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return "P-256";
    case KeyType::kEcP384:
      return "P-384";
    case KeyType::kRsa3072:
      return "RSA-3072";
  }
  return "unknown";
}

namespace {

// A key pair labelled `label` with `id`; the private half in the token, private, sensitive,
// never extractable, and used for signing or (`derive`) ECDH only. `pub` says what key.
Result<KeyPairHandles> GeneratePair(SessionPool::Lease& lease, CK_MECHANISM_TYPE mechanism,
                                    std::vector<CK_ATTRIBUTE> pub, bool derive,
                                    const std::string& label, const Bytes& id,
                                    const std::string& what) {
  IMPRINT_RETURN_IF_ERROR(RefuseDuplicate(lease, CKO_PRIVATE_KEY, label));
  // No CKA_VERIFY: nothing here verifies in the token, and tpm2-pkcs11 refuses a template
  // that sets it (its TPM key's attributes decide it: "attr mismatch: 0x10a").
  pub.push_back(Attr(CKA_TOKEN, &kTrue, sizeof(kTrue)));
  pub.push_back(Attr(CKA_LABEL, label.data(), label.size()));
  pub.push_back(Attr(CKA_ID, id.data(), id.size()));
  // A key does one thing: one that can decrypt or unwrap can be made to reveal what it
  // protects, one that derives can leak through what it derives, and a deriving key never
  // signs, so nothing it derives can be passed off as a signature.
  CK_BBOOL* sign = derive ? &kFalse : &kTrue;
  CK_BBOOL* derives = derive ? &kTrue : &kFalse;
  std::vector<CK_ATTRIBUTE> priv{
      Attr(CKA_TOKEN, &kTrue, sizeof(kTrue)),      Attr(CKA_PRIVATE, &kTrue, sizeof(kTrue)),
      Attr(CKA_SENSITIVE, &kTrue, sizeof(kTrue)),  Attr(CKA_EXTRACTABLE, &kFalse, sizeof(kFalse)),
      Attr(CKA_SIGN, sign, sizeof(CK_BBOOL)),      Attr(CKA_DERIVE, derives, sizeof(CK_BBOOL)),
      Attr(CKA_DECRYPT, &kFalse, sizeof(kFalse)),  Attr(CKA_UNWRAP, &kFalse, sizeof(kFalse)),
      Attr(CKA_LABEL, label.data(), label.size()), Attr(CKA_ID, id.data(), id.size()),
  };
  CK_MECHANISM mech{mechanism, nullptr, 0};
  KeyPairHandles handles{};
  auto made = lease.Check(
      "C_GenerateKeyPair",
      lease.api()->C_GenerateKeyPair(lease.handle(), &mech, pub.data(), pub.size(), priv.data(),
                                     priv.size(), &handles.public_key, &handles.private_key));
  if (!made) {
    return std::unexpected(made.error().WithContext("generating key " + label + " (" + what + ", " +
                                                    MechanismName(mechanism) + ")"));
  }
  return handles;
}

}  // namespace

Result<KeyPairHandles> GenerateKeyPair(SessionPool::Lease& lease, KeyType type,
                                       const std::string& label, const Bytes& id) {
  static CK_ULONG modulus_bits = 3072;
  static const uint8_t kExponent[] = {0x01, 0x00, 0x01};
  bool is_ec = type != KeyType::kRsa3072;
  const Bytes& curve = type == KeyType::kEcP384 ? kP384Oid : kP256Oid;
  std::vector<CK_ATTRIBUTE> pub;
  if (is_ec) {
    pub.push_back(Attr(CKA_EC_PARAMS, curve.data(), curve.size()));
  } else {
    pub.push_back(Attr(CKA_MODULUS_BITS, &modulus_bits, sizeof(modulus_bits)));
    pub.push_back(Attr(CKA_PUBLIC_EXPONENT, kExponent, sizeof(kExponent)));
  }
  return GeneratePair(lease, is_ec ? CKM_EC_KEY_PAIR_GEN : CKM_RSA_PKCS_KEY_PAIR_GEN,
                      std::move(pub), false, label, id, std::string(KeyTypeName(type)));
}

Result<KeyPairHandles> GenerateEcdhKeyPair(SessionPool::Lease& lease, const std::string& label,
                                           const Bytes& id) {
  std::vector<CK_ATTRIBUTE> pub{Attr(CKA_EC_PARAMS, kP256Oid.data(), kP256Oid.size())};
  return GeneratePair(lease, CKM_EC_KEY_PAIR_GEN, std::move(pub), true, label, id,
                      "P-256 for ECDH");
}

Result<CK_OBJECT_HANDLE> GenerateHmacKey(SessionPool::Lease& lease, const std::string& label,
                                         const Bytes& id) {
  IMPRINT_RETURN_IF_ERROR(RefuseDuplicate(lease, CKO_SECRET_KEY, label));
  CK_OBJECT_CLASS object_class = CKO_SECRET_KEY;
  CK_KEY_TYPE key_type = CKK_GENERIC_SECRET;
  CK_ULONG value_len = 32;
  std::vector<CK_ATTRIBUTE> tmpl{
      Attr(CKA_CLASS, &object_class, sizeof(object_class)),
      Attr(CKA_KEY_TYPE, &key_type, sizeof(key_type)),
      Attr(CKA_VALUE_LEN, &value_len, sizeof(value_len)),
      Attr(CKA_TOKEN, &kTrue, sizeof(kTrue)),
      Attr(CKA_PRIVATE, &kTrue, sizeof(kTrue)),
      Attr(CKA_SENSITIVE, &kTrue, sizeof(kTrue)),
      Attr(CKA_EXTRACTABLE, &kFalse, sizeof(kFalse)),
      Attr(CKA_SIGN, &kTrue, sizeof(kTrue)),
      Attr(CKA_VERIFY, &kTrue, sizeof(kTrue)),
      Attr(CKA_ENCRYPT, &kFalse, sizeof(kFalse)),
      Attr(CKA_DECRYPT, &kFalse, sizeof(kFalse)),
      Attr(CKA_WRAP, &kFalse, sizeof(kFalse)),
      Attr(CKA_UNWRAP, &kFalse, sizeof(kFalse)),
      Attr(CKA_DERIVE, &kFalse, sizeof(kFalse)),
      Attr(CKA_LABEL, label.data(), label.size()),
      Attr(CKA_ID, id.data(), id.size()),
  };
  CK_MECHANISM mech{CKM_GENERIC_SECRET_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  auto made = lease.Check(
      "C_GenerateKey",
      lease.api()->C_GenerateKey(lease.handle(), &mech, tmpl.data(), tmpl.size(), &key));
  if (!made) {
    return std::unexpected(made.error().WithContext("generating key " + label +
                                                    " (HMAC-SHA-256, CKM_GENERIC_SECRET_KEY_GEN)"));
  }
  return key;
}

Status DestroyObjects(SessionPool::Lease& lease, const std::string& label) {
  for (CK_OBJECT_CLASS object_class : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_SECRET_KEY, CKO_DATA}) {
    for (;;) {
      auto found = FindObject(lease, object_class, ObjectRef{label, std::nullopt});
      if (!found) {
        if (found.error().code() == Code::kNotFound) break;
        if (found.error().code() != Code::kFailedPrecondition)
          return std::unexpected(found.error());
        // Several objects share the label: destroy them one at a time below.
      }
      CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
      if (found) {
        handle = *found;
      } else {
        std::vector<CK_ATTRIBUTE> query{{CKA_CLASS, &object_class, sizeof(object_class)},
                                        {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
        CK_ULONG count = 0;
        IMPRINT_RETURN_IF_ERROR(lease.Check(
            "C_FindObjectsInit",
            lease.api()->C_FindObjectsInit(lease.handle(), query.data(), query.size())));
        CK_RV rv = lease.api()->C_FindObjects(lease.handle(), &handle, 1, &count);
        lease.api()->C_FindObjectsFinal(lease.handle());
        IMPRINT_RETURN_IF_ERROR(lease.Check("C_FindObjects", rv));
        if (count == 0) break;
      }
      IMPRINT_RETURN_IF_ERROR(
          lease.Check("C_DestroyObject", lease.api()->C_DestroyObject(lease.handle(), handle)));
    }
  }
  return {};
}

}  // namespace imprint::p11
