#pragma once
// A secret sealed to the CA (docs/offline.md, "Passwords"): a station offline draws each device's
// default password itself, and the CA must end with the same keyed verifier for it as for an
// online device, without the password staying at the station in plain text. The station seals
// it to the CA's secret-transport key (an ECDH key in the CA's token, named in the signed
// allowance) and signs the sealed value with its subordinate key; at reconcile the CA opens it in
// its token, checks the signature, makes the verifier and forgets the password.
//
//   sealed = 0x01 || E (65 bytes, the sender's ephemeral P-256 public point, uncompressed)
//            || iv (12 random bytes) || AES-256-GCM(K, iv, aad, password) || tag (16 bytes)
//   aad    = "imprint-sealed-secret-v1\0" || allowance id || "\0" || device id || "\0" || name
//   K      = HKDF-SHA-256(ikm = ECDH(e, CA key), salt = E, info = aad)
//   signed = "imprint-sealed-secret-signature-v1\0" || allowance id || "\0" || device id
//            || "\0" || name || "\0" || SHA-256(sealed)
//
// One ephemeral key seals a whole run (a Sealer), so the CA makes one ECDH per run, not per
// device; each value still has its own key (the binding is HKDF's info) and a random IV. The aad
// binds the value to its allowance, device and name: moved to another device, it does not open.

#include <functional>
#include <string_view>

#include "common/bytes.h"
#include "common/error.h"
#include "common/secret.h"
#include "common/x509/openssl_types.h"

namespace imprint::offline {

struct SealedFor {
  std::string_view allowance;
  std::string_view device;
  std::string_view name;
};

inline constexpr size_t kMaxSealedValue = 256;

// An ephemeral key and its shared secret with one recipient, for sealing many values.
// Thread-safe (Seal is const).
class Sealer {
 public:
  // `recipient`: a P-256 public key. INVALID_ARGUMENT for any other.
  static Result<Sealer> For(EVP_PKEY* recipient);
  Result<Bytes> Seal(const SealedFor& binding, std::string_view value) const;

 private:
  Sealer(Bytes point, Secret shared) : point_(std::move(point)), shared_(std::move(shared)) {}
  Bytes point_;
  Secret shared_;
};

// One value with an ephemeral key of its own.
Result<Bytes> SealSecret(EVP_PKEY* recipient, const SealedFor& binding, std::string_view value);

// The ECDH shared secret (32 bytes) of the recipient's private key with a public point.
using DeriveShared = std::function<Result<Secret>(ByteView point)>;
// Opens `sealed`. INVALID_ARGUMENT for a malformed value, DATA_LOSS when it does not open (sealed
// to another key, for another binding, or altered); errors from `derive` pass through.
Result<Secret> OpenSealedSecret(ByteView sealed, const SealedFor& binding,
                                const DeriveShared& derive);
// In software, for the tests and tools that hold the recipient's private key.
Result<Secret> DeriveSharedInSoftware(EVP_PKEY* private_key, ByteView point);

// What the station's subordinate key signs about a sealed value.
Bytes SealedSecretMessage(const SealedFor& binding, ByteView sealed);

}  // namespace imprint::offline
