#include "common/matter/spake2p.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <array>

#include "common/matter/passcode.h"
#include "common/x509/openssl_error.h"
#include "common/x509/openssl_types.h"

namespace imprint::matter {
namespace {

constexpr size_t kWsBytes = 40;  // the group size plus 8 bytes, so the reduction is unbiased

}  // namespace

Result<Bytes> ComputeVerifier(uint32_t passcode, ByteView salt, uint32_t iterations) {
  if (!IsValidPasscode(passcode)) return Fail(Code::kInvalidArgument, "invalid Matter passcode");
  if (salt.size() < kMinSaltBytes || salt.size() > kMaxSaltBytes) {
    return Fail(Code::kInvalidArgument, "Matter PBKDF salt must be 16-32 bytes");
  }
  if (iterations < kMinPbkdfIterations || iterations > kMaxPbkdfIterations) {
    return Fail(Code::kInvalidArgument, "Matter PBKDF iterations must be 1000-100000");
  }
  std::array<uint8_t, 4> pin = {static_cast<uint8_t>(passcode), static_cast<uint8_t>(passcode >> 8),
                                static_cast<uint8_t>(passcode >> 16),
                                static_cast<uint8_t>(passcode >> 24)};
  std::array<uint8_t, 2 * kWsBytes> ws{};
  if (PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(pin.data()), pin.size(), salt.data(),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        ws.size(), ws.data()) != 1) {
    return std::unexpected(x509::OpenSslError(Code::kInternal, "PBKDF2 failed"));
  }

  x509::EcGroupPtr group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  x509::BnCtxPtr ctx(BN_CTX_new());
  // w0 and w1 are worth the passcode to an attacker: wiped with everything they came from.
  x509::SecretBigNumPtr w0s(BN_bin2bn(ws.data(), kWsBytes, nullptr));
  x509::SecretBigNumPtr w1s(BN_bin2bn(ws.data() + kWsBytes, kWsBytes, nullptr));
  x509::SecretBigNumPtr w0(BN_new()), w1(BN_new());
  x509::EcPointPtr l;
  if (group) l.reset(EC_POINT_new(group.get()));
  Bytes verifier(kVerifierBytes);
  bool ok = group && ctx && w0s && w1s && w0 && w1 && l &&
            BN_nnmod(w0.get(), w0s.get(), EC_GROUP_get0_order(group.get()), ctx.get()) == 1 &&
            BN_nnmod(w1.get(), w1s.get(), EC_GROUP_get0_order(group.get()), ctx.get()) == 1 &&
            BN_bn2binpad(w0.get(), verifier.data(), 32) == 32 &&
            EC_POINT_mul(group.get(), l.get(), w1.get(), nullptr, nullptr, ctx.get()) == 1 &&
            EC_POINT_point2oct(group.get(), l.get(), POINT_CONVERSION_UNCOMPRESSED,
                               verifier.data() + 32, 65, ctx.get()) == 65;
  OPENSSL_cleanse(ws.data(), ws.size());
  OPENSSL_cleanse(pin.data(), pin.size());
  if (!ok) return std::unexpected(x509::OpenSslError(Code::kInternal, "SPAKE2+ verifier"));
  return verifier;
}

}  // namespace imprint::matter
