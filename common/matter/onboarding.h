#pragma once
// Matter onboarding codes (Matter Core Specification 5.1.3 and 5.1.4): the QR code payload
// ("MT:" and Base-38) and the 11-digit manual pairing code printed on a device's label.

#include <cstdint>
#include <string>

#include "common/error.h"

namespace imprint::matter {

// Discovery capabilities (5.1.1.3), a bit field.
inline constexpr uint8_t kDiscoverySoftAp = 0x01;
inline constexpr uint8_t kDiscoveryBle = 0x02;
inline constexpr uint8_t kDiscoveryOnNetwork = 0x04;

struct OnboardingPayload {
  uint16_t vendor_id = 0;
  uint16_t product_id = 0;
  uint8_t flow = 0;  // 0 standard, 1 user-intent, 2 custom (5.1.1.4)
  uint8_t discovery = kDiscoveryBle;
  uint16_t discriminator = 0;  // 12 bits
  uint32_t passcode = 0;       // IsValidPasscode
};

// "MT:" and the 88-bit packed payload in Base-38 (19 characters). INVALID_ARGUMENT for a
// passcode, discriminator or flow out of range.
Result<std::string> QrCodePayload(const OnboardingPayload& payload);

// The 11-digit manual pairing code (no vendor and product id: the standard flow's form), the
// last digit a Verhoeff check digit; it carries only the discriminator's upper 4 bits.
Result<std::string> ManualPairingCode(const OnboardingPayload& payload);

}  // namespace imprint::matter
