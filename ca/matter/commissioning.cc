#include "ca/matter/commissioning.h"

#include <openssl/crypto.h>

#include <cstdio>

#include "common/base64.h"
#include "common/log.h"
#include "common/matter/attestation_certificate.h"
#include "common/matter/passcode.h"
#include "common/matter/spake2p.h"

namespace imprint::ca {
namespace {

Secret FromBytes(ByteView bytes) {
  return Secret::CopyOf(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::unexpected<Error> Unavailable(const std::string& what, const Error& e) {
  LogWarning("Matter commissioning data: " + what + ": " + e.message());
  return Fail(Code::kUnavailable, "secret generator unavailable, retry");
}

}  // namespace

Result<Commissioning> DrawCommissioning(CaHsm& hsm, const std::string& order_id,
                                        const MatterOrder& order) {
  Commissioning c;
  // The passcode is a secret: straight from the token, never pooled (CaHsm::SecretRandom).
  auto passcode = matter::DrawPasscode([&hsm](size_t n) { return hsm.SecretRandom(n); });
  if (!passcode) return Unavailable("passcode", passcode.error());
  char digits[16];
  std::snprintf(digits, sizeof digits, "%08u", *passcode);
  c.passcode = Secret::CopyOf(digits);
  if (order.discriminator) {
    c.discriminator = *order.discriminator;
  } else {
    auto drawn = matter::DrawDiscriminator([&hsm](size_t n) { return hsm.Random(n); });
    if (!drawn) return Unavailable("discriminator", drawn.error());
    c.discriminator = *drawn;
  }
  auto salt = hsm.Random(kMatterSaltBytes);
  if (!salt) return Unavailable("salt", salt.error());
  c.salt = std::move(*salt);
  c.iterations = order.iterations;
  auto verifier = matter::ComputeVerifier(*passcode, c.salt, c.iterations);
  if (!verifier) return std::unexpected(verifier.error());  // a bad order: its own message
  c.verifier = FromBytes(*verifier);
  OPENSSL_cleanse(verifier->data(), verifier->size());
  std::string message = "imprint-matter-passcode\n" + order_id + "\n" + digits;
  OPENSSL_cleanse(digits, sizeof digits);
  auto mac = hsm.verifier().Mac(AsBytes(message));
  OPENSSL_cleanse(message.data(), message.size());
  if (!mac) return Unavailable("passcode MAC", mac.error());
  c.passcode_mac = std::move(*mac);
  return c;
}

std::vector<std::pair<std::string, Secret>> CommissioningSecrets(Commissioning& data,
                                                                 const MatterOrder& order) {
  std::vector<std::pair<std::string, Secret>> out;
  out.emplace_back(kMatterPasscodeName, Secret::CopyOf(data.passcode.Reveal()));
  out.emplace_back("matter_discriminator", Secret::CopyOf(std::to_string(data.discriminator)));
  out.emplace_back("matter_iterations", Secret::CopyOf(std::to_string(data.iterations)));
  // Binary values in base64 (RFC 4648 4): secrets travel and are kept as printable text.
  out.emplace_back("matter_salt", Secret::CopyOf(Base64Encode(data.salt)));
  std::string verifier = Base64Encode(AsBytes(data.verifier.Reveal()));
  out.emplace_back("matter_verifier", Secret::CopyOf(verifier));
  OPENSSL_cleanse(verifier.data(), verifier.size());
  out.emplace_back("matter_vendor_id", Secret::CopyOf(matter::HexId(order.vendor_id)));
  out.emplace_back("matter_product_id", Secret::CopyOf(matter::HexId(order.product_id)));
  out.emplace_back("matter_cd", Secret::CopyOf(Base64Encode(order.cd_der)));
  return out;
}

}  // namespace imprint::ca
