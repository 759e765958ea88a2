#include "ca/secret_generator.h"

namespace imprint::ca {

Secret VerifierMessage(std::string_view device_id, std::string_view name, std::string_view value) {
  static constexpr std::string_view kContext{"imprint-secret-v1\0", 18};
  std::string out;
  out.reserve(kContext.size() + device_id.size() + name.size() + value.size() + 2);  // no regrowth
  out.append(kContext);
  out.append(device_id);
  out.push_back('\0');
  out.append(name);
  out.push_back('\0');
  out.append(value);
  return Secret(std::move(out));
}

}  // namespace imprint::ca
