#pragma once
// SoftHsmToken: a fresh SoftHSMv2 token for one test. Writes a softhsm2.conf under a temp dir,
// points SOFTHSM2_CONF at it (never the machine's real token directory), loads the module,
// initialises a token through PKCS#11 (C_InitToken, C_InitPIN) and writes the user PIN to a
// 0600 file. The module stays loaded while the fixture lives.

#include <filesystem>
#include <memory>
#include <string>

#include "common/pkcs11/module.h"
#include "common/pkcs11/session_pool.h"
#include "tests/support/temp_dir.h"

namespace imprint::testing {

inline constexpr const char* kSoftHsmModule = IMPRINT_SOFTHSM_MODULE;

class SoftHsmToken {
 public:
  // Throws std::runtime_error on failure (test set-up only). With `keep_loaded` false the
  // module is finalised once the token exists, so the code under test loads it afresh.
  explicit SoftHsmToken(const std::string& label = "imprint-test", bool keep_loaded = true);
  ~SoftHsmToken();

  std::shared_ptr<p11::Module> module() const { return module_; }
  CK_SLOT_ID slot() const { return slot_; }
  const std::string& label() const { return label_; }
  const std::string& user_pin() const { return user_pin_; }
  std::filesystem::path pin_file() const { return dir_ / "user.pin"; }
  std::filesystem::path conf_file() const { return dir_ / "softhsm2.conf"; }
  const TempDir& dir() const { return dir_; }

  // A session pool logged in as the user.
  std::unique_ptr<p11::SessionPool> OpenPool(size_t size = 2) const;

 private:
  TempDir dir_;
  std::string label_;
  std::string user_pin_;
  std::shared_ptr<p11::Module> module_;
  CK_SLOT_ID slot_ = 0;
};

}  // namespace imprint::testing
