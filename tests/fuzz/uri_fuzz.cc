// Fuzz target: the RFC 7512 pkcs11: URI parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/pkcs11/uri.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)imprint::p11::Uri::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
