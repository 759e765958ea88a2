#pragma once
// DeviceStore: a device's provisioning state on disk, in its store directory (0700):
//   state.json      FACTORY_NEW (absent) / KEY_GENERATED / CREDENTIALS_STAGED / COMMITTED
//   device-key.pem  the key (file backend only, 0600)
//   staged.json     credentials received but not committed (0600)
//   certificate.pem, chain.pem, secrets.json (0600)   the committed credentials
// Every file is written by WriteFileAtomic and state.json is the commit point: it is renamed
// into place only after everything it refers to is durable. A power cut at any instant leaves
// the old state or the new one; Open removes whatever an interrupted step left behind.
//
// Not thread-safe: the agent serialises calls per device.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/secret.h"

namespace imprint::agent {

enum class State { kFactoryNew = 1, kKeyGenerated = 2, kCredentialsStaged = 3, kCommitted = 4 };
std::string_view StateName(State state);

struct Credentials {
  Bytes certificate_der;
  std::vector<Bytes> chain_der;  // issuing CA first, root last
  std::vector<std::pair<std::string, Secret>> secrets;
};

class DeviceStore {
 public:
  static Result<std::unique_ptr<DeviceStore>> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  State state() const { return state_; }
  const std::string& key_type() const { return key_type_; }

  // A new key exists: state KEY_GENERATED, any staged credentials dropped.
  Status MarkKeyGenerated(const std::string& key_type);
  // Stages credentials: staged.json, then state CREDENTIALS_STAGED.
  Status Stage(const Credentials& credentials);
  Result<Credentials> LoadStaged() const;
  // Writes the committed files from the staged credentials, then state COMMITTED.
  Status Commit();
  // The committed device certificate (DER); FAILED_PRECONDITION before commit.
  Result<Bytes> CommittedCertificate() const;

  // Test hook: called with a step name between durable steps, so a test can kill the process
  // at every instant of a write.
  void SetCrashHook(std::function<void(std::string_view)> hook) { crash_hook_ = std::move(hook); }

 private:
  explicit DeviceStore(std::string dir) : dir_(std::move(dir)) {}
  Status Recover();
  Status WriteState(State state, const std::string& key_type);
  std::string Path(const char* name) const { return dir_ + "/" + name; }
  void Step(std::string_view name) const {
    if (crash_hook_) crash_hook_(name);
  }

  std::string dir_;
  State state_ = State::kFactoryNew;
  std::string key_type_;
  std::function<void(std::string_view)> crash_hook_;
};

}  // namespace imprint::agent
