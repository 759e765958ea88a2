#pragma once
// LabelPrinter: where a station's labels go (docs/labels.md).
//   tcp://HOST:PORT  raw ZPL to a network printer (Zebra and most industrial printers listen
//                    on 9100): connect, send the label, half-close, and wait for the printer to
//                    close its side (it has read everything) or for the timeout.
//   file:DIR         one file a label, DIR/ORDER.DEVICE.zpl (mode 0600: a label may carry the
//                    device's password), written atomically; a reprint adds .print-N.
// A raw printer confirms nothing: a label whose sending was cut by a crash may or may not have
// been printed. Delivered() says what the sink can tell afterwards: a file sink knows, a
// network printer does not (nullopt).

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/secret.h"

namespace imprint::station {

class LabelPrinter {
 public:
  virtual ~LabelPrinter() = default;
  // `name` is ORDER.DEVICE (identifiers), `print` counts the device's prints from 1.
  // UNAVAILABLE when the printer cannot be reached or stops taking data.
  virtual Status Print(const std::string& name, int print, const Secret& zpl) = 0;
  virtual std::optional<bool> Delivered(const std::string& name, int print) const = 0;
  virtual const std::string& uri() const = 0;
};

struct PrinterTimeouts {
  std::chrono::milliseconds connect{3000};
  std::chrono::milliseconds io{5000};
};

// INVALID_ARGUMENT for a URI of another shape; a file: directory must exist.
Result<std::unique_ptr<LabelPrinter>> OpenPrinter(const std::string& uri,
                                                  PrinterTimeouts timeouts = {});

}  // namespace imprint::station
