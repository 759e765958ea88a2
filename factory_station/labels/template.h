#pragma once
// LabelTemplate: a device label as data (docs/labels.md): a ZPL II label (^XA ... ^XZ) whose
// field data may name fields of the device record as {{name}}. Checked when loaded, so a bad
// template stops the station before the first device, not at the first label:
//   - every {{name}} is a known field and stands inside a field's data (^FD/^FV ... ^FS);
//   - a secret field (the password, the Matter QR payload or manual code) never stands in a
//     1D barcode: a scanner types a 1D barcode's text into whatever has the focus, scan-back
//     included, and a linear code is read from across a room;
//   - {{label_code}} stands in a barcode, so the label can be scanned back and bound;
//   - no field with a {{name}} uses ^FH (its escapes would reinterpret the values).
// Values are checked again when a label is made: a character ZPL would read as a command (^ ~)
// or anything outside printable ASCII refuses the label.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/secret.h"

namespace imprint::station {

// The fields a template may name; secret ones are marked.
struct LabelField {
  std::string_view name;
  bool secret;
};
const std::vector<LabelField>& LabelFields();

class LabelTemplate {
 public:
  // INVALID_ARGUMENT naming the line and the rule a template breaks; `origin` (a path) is
  // named in the message.
  static Result<LabelTemplate> Parse(std::string_view text, const std::string& origin);
  static Result<LabelTemplate> Load(const std::string& path);

  // The value of a field by name; nullopt when the device has none (a Matter field of a
  // device that is not Matter): FAILED_PRECONDITION from Render.
  using Values = std::function<std::optional<std::string_view>(std::string_view name)>;
  Result<Secret> Render(const Values& values) const;

  bool uses(std::string_view field) const;
  const std::string& origin() const { return origin_; }

 private:
  struct Part {
    std::string text;  // literal ZPL, or the field's name
    bool field = false;
  };
  std::vector<Part> parts_;
  std::string origin_;
};

}  // namespace imprint::station
