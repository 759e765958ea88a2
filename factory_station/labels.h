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

namespace imprint::station {

class LabelWriter {
 public:
  static Result<std::unique_ptr<LabelWriter>> Open(const std::string& path);
  ~LabelWriter();

  Status Append(const std::string& order, const std::string& device_id,
                const std::string& serial_hex, const Secret& password);

 private:
  explicit LabelWriter(int fd) : fd_(fd) {}
  std::mutex mu_;
  int fd_;
};

}  // namespace imprint::station
