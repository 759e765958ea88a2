#pragma once
// LabelWriter: appends one JSON line per device to the labels file (mode 0600 from creation)
// for the label printer: order, device id, certificate serial, default password. The file is
// the only place on the station a password is written. Each line is fsync'd before the device
// is committed, so a committed device's password is never lost; if a device is provisioned
// again after a crash, the last line for a device id is the valid one.
// Thread-safe.

#include <memory>
#include <mutex>
#include <string>

#include "common/error.h"
#include "common/secret.h"
#include "common/secret_json.h"

namespace imprint::station {

class LabelWriter {
 public:
  static Result<std::unique_ptr<LabelWriter>> Open(const std::string& path);
  ~LabelWriter();

  Status Append(const std::string& order, const std::string& device_id,
                const std::string& serial_hex, const Secret& password);

  // A Matter device's label (docs/matter.md): its passcode, QR payload ("MT:...") and manual
  // pairing code, which all carry the passcode, and its discriminator, vendor and product id.
  struct MatterLabel {
    Secret passcode;
    Secret qr_payload;
    Secret manual_code;
    uint16_t discriminator = 0;
    std::string vendor_id, product_id;
  };
  Status AppendMatter(const std::string& order, const std::string& device_id,
                      const std::string& serial_hex, const MatterLabel& label);

 private:
  explicit LabelWriter(int fd) : fd_(fd) {}
  Status Write(nlohmann::json fields, const SecretMembers& secrets);
  std::mutex mu_;
  int fd_;
};

}  // namespace imprint::station
