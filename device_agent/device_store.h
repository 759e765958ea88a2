#pragma once
// DeviceStore: a device's provisioning state, in its store directory (0700):
//   device-key.pem  the key (file backend only, 0600; the KeyBackend writes it durably)
//   state.json      absent until commit; then the commit record (0600): state COMMITTED, key
//                   type, certificate, chain and secrets. Written durably (temp, fsync, rename,
//                   directory fsync); its rename is the commit point.
//   certificate.pem, chain.pem (0644), secrets.json (0600)
//                   copies of the commit record for the device's own software, written after
//                   the commit point without fsync and rewritten from the record on Open.
// KEY_GENERATED is "a key exists, no commit record"; staged credentials live in memory only,
// so a restart before Commit returns the device to KEY_GENERATED and the station installs
// again. A power cut at any instant therefore leaves the old state or the new one, with two
// fsyncs per commit.
//
// Not thread-safe: the agent serialises calls per device.

#include <functional>
#include <memory>
#include <optional>
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
  // Reads the commit record, removes what an interrupted write left behind and restores the
  // credential copies of a committed device. DATA_LOSS when the record is corrupt.
  static Result<std::unique_ptr<DeviceStore>> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  State state() const { return state_; }
  const std::string& key_type() const { return key_type_; }

  // A key of `key_type` exists (new or found on start): KEY_GENERATED, staged credentials
  // dropped. FAILED_PRECONDITION once committed. Nothing is written: the key is the record.
  Status MarkKeyGenerated(const std::string& key_type);
  // Holds credentials for Commit: CREDENTIALS_STAGED.
  Status Stage(Credentials credentials);
  // Writes the commit record from the staged credentials (COMMITTED), then the copies.
  Status Commit();
  // The committed device certificate (DER); FAILED_PRECONDITION before commit.
  Result<Bytes> CommittedCertificate() const;
  // The value of secret `name` among the staged or committed credentials; nullopt if none.
  std::optional<Secret> FindSecret(std::string_view name) const;

  // Test hook: called with a step name between durable steps, so a test can kill the process
  // at every instant of a write.
  void SetCrashHook(std::function<void(std::string_view)> hook) { crash_hook_ = std::move(hook); }

 private:
  explicit DeviceStore(std::string dir) : dir_(std::move(dir)) {}
  Status LoadRecord(const std::string& text);
  Status Recover();
  Status WriteCopies(const Credentials& c);
  std::string Path(const char* name) const { return dir_ + "/" + name; }
  void Step(std::string_view name) const {
    if (crash_hook_) crash_hook_(name);
  }

  std::string dir_;
  State state_ = State::kFactoryNew;
  std::string key_type_;
  std::optional<Credentials> staged_;     // CREDENTIALS_STAGED only
  std::optional<Credentials> committed_;  // COMMITTED with a commit record (not a version 1 store)
  std::function<void(std::string_view)> crash_hook_;
};

}  // namespace imprint::agent
