#include "factory_station/labels/template.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>

#include "common/file_util.h"

namespace imprint::station {
namespace {

constexpr size_t kMaxTemplateBytes = 64 * 1024;

// Two-dimensional symbologies: ^BQ QR, ^BX Data Matrix, ^B7 PDF417, ^BO and ^B0 Aztec, ^BD
// MaxiCode, ^BF MicroPDF417. Every other ^Bx field command is a linear code (^BY only sets
// defaults and starts no field).
bool TwoDimensional(std::string_view command) {
  static constexpr std::array<std::string_view, 7> k2d = {"BQ", "BX", "B7", "BO", "B0", "BD", "BF"};
  return std::find(k2d.begin(), k2d.end(), command) != k2d.end();
}

const LabelField* FindField(std::string_view name) {
  for (const LabelField& f : LabelFields()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// What the scanner knows of the field being built (from ^FO to ^FS).
struct FieldState {
  std::string barcode;  // "BQ", "BC", ... or empty for text
  bool hex = false;     // ^FH
  bool data = false;    // inside ^FD/^FV
  int data_line = 0;
  std::vector<std::string> names;  // the {{name}}s in its data
};

}  // namespace

const std::vector<LabelField>& LabelFields() {
  static const std::vector<LabelField> fields = {
      {"device_id", false},
      {"order", false},
      {"serial", false},
      {"fingerprint", false},
      {"label_code", false},
      {"password", true},
      {"matter_qr", true},
      {"matter_manual_code", true},
      {"matter_discriminator", false},
      {"matter_vendor_id", false},
      {"matter_product_id", false},
  };
  return fields;
}

Result<LabelTemplate> LabelTemplate::Parse(std::string_view text, const std::string& origin) {
  auto invalid = [&](int line, const std::string& why) {
    return Fail(
        Code::kInvalidArgument,
        "label template " + origin + (line > 0 ? ":" + std::to_string(line) : "") + ": " + why);
  };
  if (text.size() > kMaxTemplateBytes) return invalid(0, "larger than 64 KiB");
  std::string_view body = Trim(text);
  if (!body.starts_with("^XA") || !body.ends_with("^XZ") ||
      body.find("^XA", 3) != std::string_view::npos) {
    return invalid(0, "must hold one label: ^XA ... ^XZ");
  }
  LabelTemplate t;
  t.origin_ = origin;
  FieldState field;
  bool code_in_barcode = false;
  int line = 1;
  std::string literal;
  // A field ends: its {{name}}s are judged against the barcode it turned out to be.
  auto end_field = [&]() -> Status {
    for (const std::string& name : field.names) {
      const LabelField* f = FindField(name);
      if (f->secret && !field.barcode.empty() && !TwoDimensional(field.barcode)) {
        return invalid(field.data_line, "{{" + name +
                                            "}} is secret and may not stand in a 1D barcode (^" +
                                            field.barcode + "); use text or a 2D code such as ^BQ");
      }
      if (field.hex) {
        return invalid(field.data_line, "a field with {{" + name + "}} may not use ^FH");
      }
      if (name == "label_code" && !field.barcode.empty()) code_in_barcode = true;
    }
    field = {};
    return {};
  };
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '\n') ++line;
    if ((c == '^' || c == '~') && i + 2 < text.size()) {
      std::string command(text.substr(i + 1, 2));
      for (char& ch : command) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      field.data = false;
      if (command == "FS" || command == "XZ") {
        IMPRINT_RETURN_IF_ERROR(end_field());
      } else if (command == "FO" || command == "FT") {
        // A new origin starts a new field (a ^FS left out is ZPL's to forgive, not ours).
        if (!field.names.empty()) IMPRINT_RETURN_IF_ERROR(end_field());
        field.barcode.clear();
        field.hex = false;
      } else if (command == "FH") {
        field.hex = true;
      } else if (command == "FD" || command == "FV") {
        field.data = true;
        field.data_line = line;
      } else if (c == '^' && command[0] == 'B' && command != "BY") {
        field.barcode = command;
      }
      literal.append(text.substr(i, 3));
      i += 3;
      continue;
    }
    if (text.substr(i, 2) == "{{") {
      size_t end = text.find("}}", i + 2);
      std::string name(end == std::string_view::npos ? "" : text.substr(i + 2, end - i - 2));
      if (name.empty() ||
          name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
        return invalid(line, "{{ without }} (a field is {{name}}, in lower case)");
      }
      if (FindField(name) == nullptr) {
        std::string known;
        for (const LabelField& f : LabelFields())
          known += (known.empty() ? "" : ", ") + std::string(f.name);
        return invalid(line, "unknown field {{" + name.substr(0, 40) + "}} (known: " + known + ")");
      }
      if (!field.data) {
        return invalid(line, "{{" + name + "}} stands outside a field's data (^FD ... ^FS)");
      }
      field.names.push_back(name);
      if (!literal.empty()) t.parts_.push_back({std::move(literal), false});
      literal.clear();
      t.parts_.push_back({name, true});
      i = end + 2;
      continue;
    }
    literal += c;
    ++i;
  }
  if (!literal.empty()) t.parts_.push_back({std::move(literal), false});
  if (!code_in_barcode) {
    return invalid(0,
                   "{{label_code}} must stand in a barcode, so the label can be scanned back "
                   "(docs/labels.md)");
  }
  return t;
}

Result<LabelTemplate> LabelTemplate::Load(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text) return Fail(Code::kNotFound, "cannot read label template " + path);
  return Parse(*text, path);
}

bool LabelTemplate::uses(std::string_view name) const {
  return std::any_of(parts_.begin(), parts_.end(),
                     [&](const Part& p) { return p.field && p.text == name; });
}

Result<Secret> LabelTemplate::Render(const Values& values) const {
  std::string out;
  auto fail = [&](const std::string& why) {
    OPENSSL_cleanse(out.data(), out.size());
    return Fail(Code::kFailedPrecondition, why);
  };
  for (const Part& part : parts_) {
    if (!part.field) {
      out += part.text;
      continue;
    }
    std::optional<std::string_view> value = values(part.text);
    if (!value) return fail("this device has no " + part.text + " for the label");
    for (char c : *value) {
      if (c < 0x20 || c > 0x7e || c == '^' || c == '~') {
        return fail("the device's " + part.text + " holds a character a ZPL label cannot carry");
      }
    }
    out += *value;
  }
  return Secret(std::move(out));
}

}  // namespace imprint::station
