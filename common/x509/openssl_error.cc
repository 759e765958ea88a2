#include "common/x509/openssl_error.h"

#include <openssl/err.h>

#include <string>

namespace imprint::x509 {

Error OpenSslError(Code code, std::string_view what) {
  std::string message(what);
  unsigned long last = 0;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) last = e;
  if (last != 0) {
    const char* reason = ERR_reason_error_string(last);
    message += " (";
    message += reason != nullptr ? reason : "openssl error";
    message += ")";
  }
  return Error(code, std::move(message));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace imprint::x509
