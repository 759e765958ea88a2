#pragma once
// How a device certificate names its device, wherever it is signed (the CA online, a station's
// subordinate offline): CN = the device id, serialNumber = the device id when it can be a
// PrintableString (X520SerialNumber, RFC 5280 Appendix A, has no '_'; such ids are carried by CN
// and the SAN URI only), O = the brand owner's organization.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imprint::x509 {

inline std::vector<std::pair<std::string, std::string>> DeviceSubjectName(
    std::string_view device_id, std::string_view organization) {
  std::vector<std::pair<std::string, std::string>> subject{{"CN", std::string(device_id)}};
  if (device_id.find('_') == std::string_view::npos) {
    subject.emplace_back("serialNumber", std::string(device_id));
  }
  subject.emplace_back("O", std::string(organization));
  return subject;
}

}  // namespace imprint::x509
