#include "common/proof.h"

#include <cstring>
#include <string_view>

namespace imprint {

Bytes ProofMessage(ByteView nonce) {
  static constexpr std::string_view kContext{"imprint-prove-identity-v1\0", 26};
  Bytes out(kContext.size() + nonce.size());
  std::memcpy(out.data(), kContext.data(), kContext.size());
  if (!nonce.empty()) std::memcpy(out.data() + kContext.size(), nonce.data(), nonce.size());
  return out;
}

}  // namespace imprint
