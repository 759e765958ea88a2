#pragma once
// ECDSA signatures in the two forms imprint meets: X.509's DER ECDSA-Sig-Value (RFC 3279
// 2.2.3), which Signer returns, and fixed-width r || s, which JWS (RFC 7518 3.4) and Matter
// (Matter Core Specification 3.5.3) carry.

#include <optional>

#include "common/bytes.h"
#include "common/error.h"

namespace imprint::x509 {

// DER to r || s, each `width` bytes (32 for P-256). INTERNAL for a malformed DER signature
// (a signer's fault) or one wider than its curve.
Result<Bytes> EcdsaDerToRaw(ByteView der, size_t width);

// r || s (exactly 2 * width bytes) to DER; nullopt when the length is wrong.
std::optional<Bytes> EcdsaRawToDer(ByteView raw, size_t width);

}  // namespace imprint::x509
