// Fuzz target: CSR parsing and the key policy (DER and PEM).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/x509/csr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)imprint::x509::ParseAndVerifyCsr(imprint::ByteView(data, size));
  (void)imprint::x509::ParseAndVerifyCsrPem(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
