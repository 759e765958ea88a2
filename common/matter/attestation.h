#pragma once
// Device attestation (Matter Core Specification 11.17.4.7 and 6.2.3): the elements a device
// returns to an AttestationRequest, and the signature over them with its DAC key. At the
// factory the CA chooses the 32-byte attestation nonce (the issuance's challenge) and the
// station a 16-byte attestation challenge, where a commissioner would take it from the session.

#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::matter {

inline constexpr size_t kAttestationNonceBytes = 32;
inline constexpr size_t kAttestationChallengeBytes = 16;
inline constexpr size_t kMaxAttestationElementsBytes = 900;  // RESP_MAX
inline constexpr size_t kAttestationSignatureBytes = 64;     // r || s, P-256

struct AttestationElements {
  Bytes certification_declaration;
  Bytes attestation_nonce;
  uint32_t timestamp = 0;
  std::optional<Bytes> firmware_information;
};

// The TLV structure: 1 certification_declaration, 2 attestation_nonce, 3 timestamp (and 4
// firmware_information when set). INVALID_ARGUMENT when it would pass RESP_MAX.
Result<Bytes> BuildAttestationElements(const AttestationElements& elements);

// Reads what a device sent; vendor-reserved (profile-tagged) elements are skipped.
// INVALID_ARGUMENT for a malformed or oversized structure, a nonce that is not 32 bytes, or a
// missing field.
Result<AttestationElements> ParseAttestationElements(ByteView tlv);

// What the DAC key signs: attestation_elements || attestation_challenge.
Bytes AttestationTbs(ByteView elements, ByteView challenge);

// Checks a device's answer: the elements parse, carry `nonce` and `declaration` exactly, and
// `signature` (r || s) verifies with `dac_key` over AttestationTbs. INVALID_ARGUMENT naming
// the first check that failed.
Status VerifyAttestation(EVP_PKEY* dac_key, ByteView elements, ByteView challenge,
                         ByteView signature, ByteView nonce, ByteView declaration);

}  // namespace imprint::matter
