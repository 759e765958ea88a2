#include "common/pkcs11/hmac.h"

namespace imprint::p11 {

Result<std::unique_ptr<HmacKey>> HmacKey::Find(SessionPool& pool, const ObjectRef& ref) {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool.Acquire());
  IMPRINT_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, FindObject(lease, CKO_SECRET_KEY, ref));
  return std::unique_ptr<HmacKey>(new HmacKey(pool, ref, key));
}

Result<Bytes> HmacKey::Mac(ByteView data) {
  Error last(Code::kUnavailable, "C_Sign: not attempted");
  size_t session_retries = 0;
  bool handle_retried = false;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    CK_MECHANISM mech{CKM_SHA256_HMAC, nullptr, 0};
    Bytes mac(32);
    CK_ULONG len = mac.size();
    auto status = lease.Check("C_SignInit",
                              lease.api()->C_SignInit(lease.handle(), &mech, key_.load()));
    if (status) {
      status = lease.Check("C_Sign", lease.api()->C_Sign(lease.handle(),
                                                         const_cast<uint8_t*>(data.data()),
                                                         data.size(), mac.data(), &len));
    }
    if (status) {
      mac.resize(len);
      return mac;
    }
    last = status.error();
    if (lease.broken() && session_retries < pool_.size()) {
      ++session_retries;
      continue;
    }
    if (last.code() == Code::kNotFound && !handle_retried) {
      handle_retried = true;
      IMPRINT_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE fresh, FindObject(lease, CKO_SECRET_KEY, ref_));
      key_.store(fresh);
      continue;
    }
    return std::unexpected(last);
  }
}

}  // namespace imprint::p11
