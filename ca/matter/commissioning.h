#pragma once
// A Matter device's commissioning data, drawn at the CA for each device of a Matter order
// (docs/matter.md, "What goes on the device"): the setup passcode from the HSM's generator
// (never a forbidden value), the discriminator, a PBKDF salt and the SPAKE2+ verifier. The
// device gets everything but the passcode; the station gets the passcode for the label only;
// the CA keeps the salt, the discriminator and keyed MACs of the passcode, never the passcode
// or the verifier (which, with the salt, gives the 27-bit passcode away to a brute force).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ca/hsm.h"
#include "ca/matter/order.h"
#include "common/bytes.h"
#include "common/secret.h"

namespace imprint::ca {

// The names the commissioning data travels under in IssueDeviceSecrets (docs/matter.md).
inline constexpr const char* kMatterPasscodeName = "matter_passcode";  // the label's only
inline constexpr size_t kMatterSaltBytes = 32;

struct Commissioning {
  Secret passcode;  // 8 decimal digits
  uint16_t discriminator = 0;
  Bytes salt;
  uint32_t iterations = 0;
  Secret verifier;     // w0 || L, 97 bytes
  Bytes passcode_mac;  // HMAC by the verifier key of the order and the passcode: repeats show
};

// Draws one device's data for `order_id` (PBKDF2 with the order's iterations runs here: the
// CA's CPU). UNAVAILABLE when the HSM's generator or MAC fails (the detail is logged).
Result<Commissioning> DrawCommissioning(CaHsm& hsm, const std::string& order_id,
                                        const MatterOrder& order);

// What the station receives, in order: the passcode (for the label only) and what the device
// keeps: discriminator, iterations, salt, verifier, vendor and product id, CD; numbers in
// decimal, ids in 4 hex digits, bytes in base64.
std::vector<std::pair<std::string, Secret>> CommissioningSecrets(Commissioning& data,
                                                                 const MatterOrder& order);

}  // namespace imprint::ca
