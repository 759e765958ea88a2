#include "common/x509/ecdsa_signature.h"

#include <openssl/ec.h>

#include "common/x509/openssl_error.h"
#include "common/x509/openssl_types.h"

namespace imprint::x509 {

Result<Bytes> EcdsaDerToRaw(ByteView der, size_t width) {
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) {
    ClearOpenSslErrors();
    return Fail(Code::kInternal, "the signer returned a malformed ECDSA signature");
  }
  Bytes raw(2 * width);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw.data(), static_cast<int>(width)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw.data() + width, static_cast<int>(width)) < 0) {
    return Fail(Code::kInternal, "ECDSA signature wider than its curve");
  }
  return raw;
}

std::optional<Bytes> EcdsaRawToDer(ByteView raw, size_t width) {
  if (raw.size() != 2 * width) return std::nullopt;
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BigNumPtr r(BN_bin2bn(raw.data(), static_cast<int>(width), nullptr));
  BigNumPtr s(BN_bin2bn(raw.data() + width, static_cast<int>(width), nullptr));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  (void)r.release();  // owned by sig now
  (void)s.release();
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  Bytes der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

}  // namespace imprint::x509
