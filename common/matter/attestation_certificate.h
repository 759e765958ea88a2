#pragma once
// The Matter attestation certificate profile (PAA, PAI, DAC) as connectedhomeip's
// VerifyAttestationCertificateFormat and chip-cert enforce it (Matter Core Specification
// 6.2.2): what imprint checks on a PAI an operator imports and on every DAC before it is
// recorded, and what tests hold imprint's output to.

#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::matter {

enum class AttestationKind { kPaa, kPai, kDac };

// The subject attributes that carry the vendor and product id (6.2.2.2), each 4 upper-case hex
// digits in a UTF8String.
inline constexpr const char* kVendorIdOid = "1.3.6.1.4.1.37244.2.1";
inline constexpr const char* kProductIdOid = "1.3.6.1.4.1.37244.2.2";
inline constexpr size_t kMaxAttestationCertificateBytes = 600;

struct AttestationIds {
  std::optional<uint16_t> vendor_id;
  std::optional<uint16_t> product_id;
};

// "FFF1" for 0xFFF1: the form the subject attributes take.
std::string HexId(uint16_t id);

// Checks one certificate against the profile for `kind`: X.509 v3, ecdsa-with-SHA256, a P-256
// key, at most 600 bytes of DER; basicConstraints critical (DAC: CA false; PAI: CA true,
// pathLen 0; PAA: CA true, pathLen absent or 1); keyUsage critical (DAC: exactly
// digitalSignature; PAI, PAA: keyCertSign and cRLSign, digitalSignature allowed, nothing else);
// a 20-byte subjectKeyIdentifier; a 20-byte authorityKeyIdentifier on PAI and DAC; VID and PID
// well formed where present, the DAC carrying both and a PAA no PID. Returns the ids;
// INVALID_ARGUMENT naming the first rule broken.
Result<AttestationIds> CheckAttestationCertificate(ByteView der, AttestationKind kind);

// The rules between the levels: DAC VID equals PAI VID; a PAI's PID, when it has one, equals
// the DAC's; a PAA's VID, when it has one, equals the PAI's.
Status CheckAttestationIds(const AttestationIds& dac, const AttestationIds& pai,
                           const AttestationIds& paa);

}  // namespace imprint::matter
