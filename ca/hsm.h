#pragma once
// CaHsm: the CA's view of its token: the module, a logged-in session pool, and the keys
// `init` created in it (issuing, root, audit, secret verifier), looked up once.
// Thread-safe after LoadKeys.

#include <memory>
#include <mutex>

#include "ca/config.h"
#include "common/pkcs11/hmac.h"
#include "common/pkcs11/module.h"
#include "common/pkcs11/session_pool.h"
#include "common/pkcs11/signer.h"

namespace imprint::ca {

class CaHsm {
 public:
  // Loads the module, finds the token by config.token_uri, logs in with the configured PIN.
  // Errors name the problem (module missing, token missing, wrong PIN) and never the PIN.
  static Result<std::unique_ptr<CaHsm>> Open(const CaConfig& config);

  // Finds the keys. `need_root` is false for an issuing CA whose root lives elsewhere.
  // FAILED_PRECONDITION naming the key if one is not sensitive or is, or ever was, extractable.
  Status LoadKeys(bool need_root);

  p11::SessionPool& pool() { return *pool_; }
  p11::Pkcs11Signer& issuing() { return *issuing_; }
  p11::Pkcs11Signer* root() { return root_.get(); }  // null with an external root
  p11::Pkcs11Signer& audit() { return *audit_; }
  p11::HmacKey& verifier() { return *verifier_; }

  // Random bytes from the token, fetched in blocks so a certificate serial costs no round trip.
  // For values that are public once used (serials, challenges).
  Result<Bytes> Random(size_t count);
  // Random bytes straight from the token, never pooled: for secrets (passwords), so no
  // future secret's randomness waits in this process's memory. The caller wipes them.
  Result<Bytes> SecretRandom(size_t count);

 private:
  CaHsm() = default;

  std::shared_ptr<p11::Module> module_;
  std::unique_ptr<p11::SessionPool> pool_;
  std::unique_ptr<p11::Pkcs11Signer> issuing_;
  std::unique_ptr<p11::Pkcs11Signer> root_;
  std::unique_ptr<p11::Pkcs11Signer> audit_;
  std::unique_ptr<p11::HmacKey> verifier_;

  std::mutex random_mu_;
  Bytes random_;  // guarded by random_mu_; wiped as it is consumed
};

}  // namespace imprint::ca
