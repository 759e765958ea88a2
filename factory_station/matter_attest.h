#pragma once
// `imprint-station attest`: asks one Matter device for an attestation with a nonce and a
// challenge the caller chose, as a commissioner would (Matter Core Specification 11.17.6.1),
// and prints what it answered. For the line's QA and for tests that check a device with an
// independent Matter stack; it changes nothing on the device.

#include <ostream>
#include <string>

#include "common/bytes.h"
#include "common/error.h"

namespace imprint::station {

// Prints one JSON object: device_id, certificate (the committed DAC), attestation_elements and
// signature (r || s), bytes in base64. INVALID_ARGUMENT for a nonce that is not 32 bytes or a
// challenge that is not 16; the device's own errors pass through.
Status AttestDevice(const std::string& address, ByteView nonce, ByteView challenge,
                    std::ostream& out);

}  // namespace imprint::station
