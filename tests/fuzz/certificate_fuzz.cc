// Fuzz target: ReadCertificate (certificate_view.h), against OpenSSL: a certificate it reads with
// a key that decodes must be one d2i_X509 reads too (reconcile relies on that instead of
// d2i_X509), and reading never crashes.
#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/x509/certificate_view.h"
#include "common/x509/spki.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  imprint::ByteView der(data, size);
  auto view = imprint::x509::ReadCertificate(der);
  if (!view || !imprint::x509::DecodePublicKey(view->spki)) return 0;
  const unsigned char* p = data;
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(size));
  if (cert == nullptr || p != data + size) abort();  // read by us, refused by OpenSSL
  X509_free(cert);
  ERR_clear_error();
  return 0;
}
