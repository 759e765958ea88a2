#include "common/x509/openssl_types.h"

namespace imprint::x509 {

PkeyPtr ShareKey(EVP_PKEY* key) {
  if (key != nullptr) EVP_PKEY_up_ref(key);
  return PkeyPtr(key);
}

X509Ptr ShareCert(X509* cert) {
  if (cert != nullptr) X509_up_ref(cert);
  return X509Ptr(cert);
}

}  // namespace imprint::x509
