#pragma once
// RFC 7512 "pkcs11:" URIs: which token and which object.

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/error.h"
#include "common/pkcs11/pkcs11.h"

namespace imprint::p11 {

struct Uri {
  // Token attributes (RFC 7512 2.3), percent-decoded.
  std::optional<std::string> token;         // CK_TOKEN_INFO.label
  std::optional<std::string> manufacturer;  // CK_TOKEN_INFO.manufacturerID
  std::optional<std::string> model;         // CK_TOKEN_INFO.model
  std::optional<std::string> serial;        // CK_TOKEN_INFO.serialNumber
  std::optional<CK_SLOT_ID> slot_id;
  // Object attributes.
  std::optional<std::string> object;    // CKA_LABEL
  std::optional<Bytes> id;              // CKA_ID
  std::optional<CK_OBJECT_CLASS> type;  // public, private, secret-key, cert, data
  // Query attributes.
  std::optional<std::string> pin_source;  // a file path ("file:" prefix accepted)
  std::optional<std::string> module_path;

  // Parses a URI. Unknown attributes (other than vendor "x-" ones) and "pin-value" (a PIN
  // must not live in configuration or argv) are INVALID_ARGUMENT, as is bad percent-encoding.
  static Result<Uri> Parse(std::string_view text);
};

}  // namespace imprint::p11
