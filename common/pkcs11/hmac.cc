#include "common/pkcs11/hmac.h"

#include "common/pkcs11/key_call.h"

namespace imprint::p11 {

Result<std::unique_ptr<HmacKey>> HmacKey::Find(SessionPool& pool, const ObjectRef& ref) {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool.Acquire());
  IMPRINT_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, FindObject(lease, CKO_SECRET_KEY, ref));
  return std::unique_ptr<HmacKey>(new HmacKey(pool, ref, key));
}

Result<Bytes> HmacKey::Mac(ByteView data) {
  return CallWithKey(
      pool_, ref_, CKO_SECRET_KEY, key_, "HMAC",
      [&](SessionPool::Lease& lease, CK_OBJECT_HANDLE key) -> Result<Bytes> {
        CK_MECHANISM mech{CKM_SHA256_HMAC, nullptr, 0};
        IMPRINT_RETURN_IF_ERROR(
            lease.Check("C_SignInit", lease.api()->C_SignInit(lease.handle(), &mech, key)));
        Bytes mac(32);
        CK_ULONG len = mac.size();
        IMPRINT_RETURN_IF_ERROR(lease.Check(
            "C_Sign", lease.api()->C_Sign(lease.handle(), const_cast<uint8_t*>(data.data()),
                                          data.size(), mac.data(), &len)));
        mac.resize(len);
        return mac;
      });
}

}  // namespace imprint::p11
