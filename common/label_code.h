#pragma once
// A device's label code (docs/labels.md): what the station prints in a barcode on the device's
// label and what scan-back reads from it. "IMP1-" and the first 8 bytes of the SHA-256 of the
// device's certificate (DER), in upper-case hex: derived from the certificate, so the CA checks
// a binding without being told which code a station printed, and a device given a new
// certificate needs a new label. Upper-case letters, digits and '-' only: QR alphanumeric mode
// and Code 128 carry it as it is, and no keyboard layout a scanner types through changes it.

#include <string>
#include <string_view>

#include "common/bytes.h"

namespace imprint {

inline constexpr std::string_view kLabelCodePrefix = "IMP1-";

std::string LabelCode(ByteView certificate_der);
// The shape alone ("IMP1-" and 16 upper-case hex digits).
bool IsLabelCode(std::string_view text);

}  // namespace imprint
