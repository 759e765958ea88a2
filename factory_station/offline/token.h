#pragma once
// The station's own PKCS#11 token, for offline work (docs/offline.md): where its subordinate
// issuing keys are made and never leave. A SoftHSM token in tests; a smart card, HSM or TPM on a
// real line. Configured at enrollment (or later with `imprint-station token set`) and kept in
// DIR/offline-token.json: the module, the token's RFC 7512 URI and the path of a PIN file
// (0600/0400, like the CA's [hsm]); never the PIN.

#include <memory>
#include <string>

#include "common/error.h"
#include "common/pkcs11/module.h"
#include "common/pkcs11/session_pool.h"

namespace imprint::station {

struct TokenConfig {
  std::string module;
  std::string token_uri;
  std::string pin_file;
};

class StationToken {
 public:
  // Loads the module, finds the token and logs in; errors name what failed, never the PIN.
  static Result<std::unique_ptr<StationToken>> Open(const TokenConfig& config);

  p11::SessionPool& pool() { return *pool_; }

 private:
  std::shared_ptr<p11::Module> module_;
  std::unique_ptr<p11::SessionPool> pool_;
};

// Checks the token opens with the configuration, then writes it into the state directory.
Status SaveTokenConfig(const std::string& state_dir, const TokenConfig& config);
// FAILED_PRECONDITION when the station has no token configured (it then cannot work offline).
Result<TokenConfig> LoadTokenConfig(const std::string& state_dir);

}  // namespace imprint::station
