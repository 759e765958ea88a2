#pragma once
// Console sessions held in memory with an idle timeout, and the per-source limit on failed
// logins (docs/console.md, "Users and sessions").

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "ca/states.h"

namespace imprint::ca {

struct ConsoleSession {
  std::string user;
  ConsoleRole role = ConsoleRole::kViewer;
  std::string csrf;
  bool must_change = true;
  std::string credential;  // ConsoleCredential at login (or at the session's own change)
};

// Sessions by an opaque random id (the cookie). Thread-safe.
class SessionStore {
 public:
  using Clock = std::chrono::steady_clock;
  explicit SessionStore(std::chrono::seconds idle,
                        std::chrono::hours longest = std::chrono::hours(12))
      : idle_(idle), longest_(longest) {}

  // A new session; returns its id.
  std::string Create(const std::string& user, ConsoleRole role, bool must_change,
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
// is refused (429) until the window ends, right password or not. A successful login forgives
// nothing: else a guesser holding one account could interleave its own good logins with
// guesses at another's (issue 26, finding 7). The password check in a password change is a
// guess like a login's.
class LoginLimiter {
 public:
  static constexpr int kMaxFailures = 5;
  static constexpr std::chrono::minutes kWindow{5};
  using Clock = std::chrono::steady_clock;

  // Reserves a guess from `source`: false when its failures plus its guesses still in flight
  // reach kMaxFailures. Checked and counted in one critical section, so guesses sent at once
  // cannot all pass the check while their password hashes run (issue 26, finding 10).
  bool Begin(const std::string& source);
  // Ends a guess Begin reserved: a wrong one counts as a failure; a right one only frees its
  // reservation.
  void End(const std::string& source, bool wrong);

 private:
  struct Entry {
    int failures = 0;
    int in_flight = 0;
    Clock::time_point first;  // of the window the failures count in
  };
  std::mutex mu_;
  std::map<std::string, Entry> failures_;  // guarded by mu_
};

}  // namespace imprint::ca
