#include "common/secret_json.h"

namespace imprint {
namespace {

size_t EscapedSize(std::string_view value) {
  size_t n = value.size();
  for (char c : value) n += (c == '"' || c == '\\') ? 1 : 0;
  return n;
}

}  // namespace

Result<Secret> JsonWithSecrets(const nlohmann::json& fields, const std::string& nest_under,
                               const SecretMembers& secrets) {
  if (!fields.is_object()) return Fail(Code::kInternal, "JsonWithSecrets needs an object");
  std::string head = fields.dump();  // "{...}": no secret in it
  std::string nest = nest_under.empty() ? "" : nlohmann::json(nest_under).dump();
  size_t total = head.size() + nest.size() + 5;
  for (const auto& [name, value] : secrets) {
    for (char c : value->Reveal()) {
      if (c < 0x20 || c > 0x7e) {
        return Fail(Code::kInvalidArgument, "secret " + name + " is not printable ASCII");
      }
    }
    total += nlohmann::json(name).dump().size() + EscapedSize(value->Reveal()) + 4;
  }
  std::string out;
  out.reserve(total);  // every append below fits: the buffer never moves
  out.append(head, 0, head.size() - 1);
  bool first = head.size() == 2;
  if (!nest.empty()) {
    out += first ? "" : ",";
    out += nest;
    out += ":{";
    first = true;
  }
  for (const auto& [name, value] : secrets) {
    out += first ? "" : ",";
    first = false;
    out += nlohmann::json(name).dump();
    out += ":\"";
    for (char c : value->Reveal()) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  if (!nest.empty()) out += '}';
  out += "}\n";
  return Secret(std::move(out));
}

}  // namespace imprint
