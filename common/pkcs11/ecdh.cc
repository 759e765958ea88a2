#include "common/pkcs11/ecdh.h"

#include <openssl/crypto.h>

#include "common/pkcs11/key_call.h"

namespace imprint::p11 {
namespace {

constexpr size_t kP256PointBytes = 65;  // 0x04 || x || y
constexpr CK_ULONG kSharedBytes = 32;

}  // namespace

Result<std::unique_ptr<EcdhKey>> EcdhKey::Find(SessionPool& pool, const ObjectRef& ref) {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool.Acquire());
  IMPRINT_RETURN_IF_ERROR(RequireKeyStaysInToken(lease, CKO_PRIVATE_KEY, ref));
  IMPRINT_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, FindObject(lease, CKO_PRIVATE_KEY, ref));
  IMPRINT_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE public_object, FindObject(lease, CKO_PUBLIC_KEY, ref));
  IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr public_key, ReadPublicKey(lease, public_object));
  return std::unique_ptr<EcdhKey>(new EcdhKey(pool, ref, key, std::move(public_key)));
}

Result<Secret> EcdhKey::Derive(ByteView peer_point) {
  if (peer_point.size() != kP256PointBytes || peer_point[0] != 0x04) {
    return Fail(Code::kInvalidArgument, "not an uncompressed P-256 point");
  }
  return CallWithKey(
      pool_, ref_, CKO_PRIVATE_KEY, key_, "ECDH",
      [&](SessionPool::Lease& lease, CK_OBJECT_HANDLE key) -> Result<Secret> {
        CK_ECDH1_DERIVE_PARAMS params{CKD_NULL, 0, nullptr, peer_point.size(),
                                      const_cast<uint8_t*>(peer_point.data())};
        CK_MECHANISM mech{CKM_ECDH1_DERIVE, &params, sizeof(params)};
        CK_OBJECT_CLASS secret_class = CKO_SECRET_KEY;
        CK_KEY_TYPE generic = CKK_GENERIC_SECRET;
        CK_ULONG length = kSharedBytes;
        CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
        // A session object the caller reads out: it protects nothing the sealed value does not.
        CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &secret_class, sizeof(secret_class)},
                               {CKA_KEY_TYPE, &generic, sizeof(generic)},
                               {CKA_VALUE_LEN, &length, sizeof(length)},
                               {CKA_TOKEN, &no, sizeof(no)},
                               {CKA_SENSITIVE, &no, sizeof(no)},
                               {CKA_EXTRACTABLE, &yes, sizeof(yes)}};
        CK_OBJECT_HANDLE derived = CK_INVALID_HANDLE;
        auto made = lease.Check("C_DeriveKey",
                                lease.api()->C_DeriveKey(lease.handle(), &mech, key, tmpl,
                                                         sizeof(tmpl) / sizeof(tmpl[0]), &derived));
        if (!made) return std::unexpected(made.error());
        std::string value(kSharedBytes, '\0');
        CK_ATTRIBUTE read{CKA_VALUE, value.data(), kSharedBytes};
        auto got = lease.Check("C_GetAttributeValue",
                               lease.api()->C_GetAttributeValue(lease.handle(), derived, &read, 1));
        (void)lease.api()->C_DestroyObject(lease.handle(), derived);
        if (!got || read.ulValueLen != kSharedBytes) {
          OPENSSL_cleanse(value.data(), value.size());
          if (!got) return std::unexpected(got.error());
          return Fail(Code::kInternal, "the token derived a secret of the wrong length");
        }
        return Secret(std::move(value));
      });
}

}  // namespace imprint::p11
