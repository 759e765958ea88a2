#include "common/pkcs11/random.h"

namespace imprint::p11 {

Result<Bytes> GenerateRandom(SessionPool& pool, size_t count) {
  if (count == 0 || count > 4096) return Fail(Code::kInvalidArgument, "random size out of range");
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool.Acquire());
  Bytes out(count);
  IMPRINT_RETURN_IF_ERROR(lease.Check(
      "C_GenerateRandom", lease.api()->C_GenerateRandom(lease.handle(), out.data(), out.size())));
  return out;
}

}  // namespace imprint::p11
