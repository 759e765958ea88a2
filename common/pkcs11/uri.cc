#include "common/pkcs11/uri.h"

#include <charconv>

namespace imprint::p11 {
namespace {

constexpr size_t kMaxUriBytes = 4096;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 2.1 percent-decoding.
Result<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return Fail(Code::kInvalidArgument, "pkcs11 URI: truncated percent-encoding");
    }
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return Fail(Code::kInvalidArgument, "pkcs11 URI: bad percent-encoding");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

Result<CK_OBJECT_CLASS> ParseType(std::string_view v) {
  if (v == "public") return CKO_PUBLIC_KEY;
  if (v == "private") return CKO_PRIVATE_KEY;
  if (v == "secret-key") return CKO_SECRET_KEY;
  if (v == "cert") return CKO_CERTIFICATE;
  if (v == "data") return CKO_DATA;
  return Fail(Code::kInvalidArgument, "pkcs11 URI: unknown type " + std::string(v));
}

Status SetPathAttribute(Uri& uri, std::string_view name, std::string value) {
  if (name == "token") {
    uri.token = std::move(value);
  } else if (name == "manufacturer") {
    uri.manufacturer = std::move(value);
  } else if (name == "model") {
    uri.model = std::move(value);
  } else if (name == "serial") {
    uri.serial = std::move(value);
  } else if (name == "object") {
    uri.object = std::move(value);
  } else if (name == "id") {
    uri.id = Bytes(value.begin(), value.end());
  } else if (name == "type") {
    IMPRINT_ASSIGN_OR_RETURN(uri.type, ParseType(value));
  } else if (name == "slot-id") {
    CK_SLOT_ID slot = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), slot);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
      return Fail(Code::kInvalidArgument, "pkcs11 URI: slot-id is not a number");
    }
    uri.slot_id = slot;
  } else if (name.starts_with("x-") || name == "library-description" ||
             name == "library-manufacturer" || name == "library-version" ||
             name == "slot-description" || name == "slot-manufacturer") {
    // Known or vendor attributes that do not narrow our token/object lookup.
  } else {
    return Fail(Code::kInvalidArgument, "pkcs11 URI: unknown attribute " + std::string(name));
  }
  return {};
}

Status SetQueryAttribute(Uri& uri, std::string_view name, std::string value) {
  if (name == "pin-source") {
    if (value.starts_with("file:")) value.erase(0, 5);
    uri.pin_source = std::move(value);
  } else if (name == "module-path") {
    uri.module_path = std::move(value);
  } else if (name == "pin-value") {
    return Fail(Code::kInvalidArgument, "pkcs11 URI: pin-value is refused; use pin-source");
  } else if (!name.starts_with("x-") && name != "module-name") {
    return Fail(Code::kInvalidArgument, "pkcs11 URI: unknown query attribute " + std::string(name));
  }
  return {};
}

template <typename Setter>
Status ParseList(std::string_view list, char separator, Uri& uri, Setter set) {
  while (!list.empty()) {
    size_t end = list.find(separator);
    std::string_view item = list.substr(0, end);
    list = end == std::string_view::npos ? std::string_view() : list.substr(end + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Fail(Code::kInvalidArgument, "pkcs11 URI: attribute without a value");
    }
    IMPRINT_ASSIGN_OR_RETURN(std::string value, PercentDecode(item.substr(eq + 1)));
    IMPRINT_RETURN_IF_ERROR(set(uri, item.substr(0, eq), std::move(value)));
  }
  return {};
}

}  // namespace

Result<Uri> Uri::Parse(std::string_view text) {
  constexpr std::string_view kScheme = "pkcs11:";
  if (text.size() > kMaxUriBytes) return Fail(Code::kInvalidArgument, "pkcs11 URI too long");
  if (!text.starts_with(kScheme)) {
    return Fail(Code::kInvalidArgument, "not a pkcs11: URI");
  }
  text.remove_prefix(kScheme.size());
  size_t q = text.find('?');
  std::string_view path = text.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : text.substr(q + 1);
  Uri uri;
  IMPRINT_RETURN_IF_ERROR(ParseList(path, ';', uri, SetPathAttribute));
  IMPRINT_RETURN_IF_ERROR(ParseList(query, '&', uri, SetQueryAttribute));
  return uri;
}

}  // namespace imprint::p11
