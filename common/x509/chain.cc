#include "common/x509/chain.h"

#include <string>

#include "common/x509/openssl_error.h"

namespace imprint::x509 {

Status VerifyChain(X509* leaf, const std::vector<X509*>& intermediates, X509* root) {
  StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx || X509_STORE_add_cert(store.get(), root) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "X509_STORE setup"));
  }
  for (X509* cert : intermediates) {
    if (sk_X509_push(untrusted.get(), cert) <= 0) {  // borrowed; the stack frees no certs
      return std::unexpected(OpenSslError(Code::kInternal, "sk_X509_push"));
    }
  }
  X509_STORE_set_flags(store.get(), X509_V_FLAG_X509_STRICT);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "X509_STORE_CTX_init"));
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ClearOpenSslErrors();
    return Fail(Code::kInvalidArgument, std::string("certificate chain does not verify: ") +
                                            X509_verify_cert_error_string(err));
  }
  return {};
}

}  // namespace imprint::x509
