#pragma once
// Who may use the console: users with a role (viewer reads; operator may also close orders
// and revoke), passwords kept only as scrypt hashes, sessions held in memory with an idle
// timeout, and a per-source limit on failed logins (docs/console.md, "Users and sessions").

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ca/config.h"
#include "ca/audit/write_context.h"
#include "common/bytes.h"
#include "common/error.h"
#include "common/secret.h"
#include "common/sql/database.h"

namespace imprint::ca {

// "$scrypt$ln=15,r=8,p=1$<salt>$<hash>" (base64url): scrypt (RFC 7914) through OpenSSL's
// EVP_KDF with N = 2^15, r = 8, p = 1 and a 16-byte random salt; 32 MB and some 50 ms a hash.
Result<std::string> HashPassword(std::string_view password);
// Constant-time check; false for a hash it cannot parse.
bool VerifyPassword(std::string_view stored, std::string_view password);

inline constexpr size_t kMinConsolePasswordLength = 12;

struct ConsoleUser {
  std::string name, role, password_hash;
  bool must_change = true;
};

// `console user add`: INVALID_ARGUMENT for a bad name or role, ALREADY_EXISTS for a taken
// name. Returns the one-time initial password (16 symbols from the token's generator);
// audited as console.user_added (name and role, never the password).
Result<Secret> ConsoleUserAdd(const CaConfig& config, const std::string& name,
                              const std::string& role);
// `console user reset`: a new one-time password for `name`, to be changed at the next login;
// every session of theirs, on every CA node, ends at its next request (their credential
// changed). NOT_FOUND for an unknown user. Audited as console.password_reset.
Result<Secret> ConsoleUserReset(const CaConfig& config, const std::string& name);
// `console user remove`: the user is gone and their sessions end at their next request.
// NOT_FOUND for an unknown user. Audited as console.user_removed.
Status ConsoleUserRemove(const CaConfig& config, const std::string& name);
// `console user list`: every user, by name (no hashes).
Result<std::vector<ConsoleUser>> ConsoleUserList(const CaConfig& config);

Result<std::optional<ConsoleUser>> LoadConsoleUser(sql::Database& db, const std::string& name);
// What a session remembers of the password it was opened with: the SHA-256 of the stored hash
// (never the hash itself). A reset or change makes a new salt, so a new credential.
std::string ConsoleCredential(const ConsoleUser& user);
// A new password (already checked against the policy and hashed) for `name`, no longer one to
// change; audited as console.password_changed with actor console:NAME.
Status SetConsolePasswordIn(WriteContext& ctx, const std::string& name, const std::string& hash);

struct ConsoleSession {
  std::string user, role, csrf;
  bool must_change = true;
  std::string credential;  // ConsoleCredential at login (or at the session's own change)
};

// Sessions by an opaque random id (the cookie). Thread-safe.
class SessionStore {
 public:
  using Clock = std::chrono::steady_clock;
  explicit SessionStore(std::chrono::seconds idle, std::chrono::hours longest = std::chrono::hours(12))
      : idle_(idle), longest_(longest) {}

  // A new session; returns its id.
  std::string Create(const std::string& user, const std::string& role, bool must_change,
                     std::string credential);
  // The session, its idle clock restarted; nullopt (and forgotten) once idle or too old.
  std::optional<ConsoleSession> Use(const std::string& id);
  // The session's own password change: no change required any more, the new credential.
  void PasswordChanged(const std::string& id, std::string credential);
  void Remove(const std::string& id);

 private:
  struct Entry {
    ConsoleSession session;
    Clock::time_point created, used;
  };
  std::chrono::seconds idle_;
  std::chrono::hours longest_;
  std::mutex mu_;
  std::map<std::string, Entry> sessions_;  // guarded by mu_
};

// Failed logins per source address: after kMaxFailures within kWindow, every login from there
// is refused (429) until the window ends, right password or not.
class LoginLimiter {
 public:
  static constexpr int kMaxFailures = 5;
  static constexpr std::chrono::minutes kWindow{5};
  using Clock = std::chrono::steady_clock;

  bool Allowed(const std::string& source);
  void Failed(const std::string& source);
  void Succeeded(const std::string& source);

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point first;
  };
  std::mutex mu_;
  std::map<std::string, Entry> failures_;  // guarded by mu_
};

}  // namespace imprint::ca
