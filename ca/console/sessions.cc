#include "ca/console/sessions.h"

#include <openssl/rand.h>

#include "common/base64.h"
#include "common/bytes.h"

namespace imprint::ca {

std::string SessionStore::Create(const std::string& user, ConsoleRole role, bool must_change,
                                 std::string credential) {
  Bytes id(32), csrf(32);
  RAND_priv_bytes(id.data(), static_cast<int>(id.size()));
  RAND_priv_bytes(csrf.data(), static_cast<int>(csrf.size()));
  std::string key = Base64UrlEncode(id);
  auto now = Clock::now();
  std::lock_guard lock(mu_);
  sessions_[key] = {
      {user, role, Base64UrlEncode(csrf), must_change, std::move(credential)}, now, now};
  return key;
}

std::optional<ConsoleSession> SessionStore::Use(const std::string& id) {
  auto now = Clock::now();
  std::lock_guard lock(mu_);
  // Expired sessions are dropped as they are met, and all of them now and then.
  if (sessions_.size() > 64) {
    std::erase_if(sessions_, [&](const auto& e) {
      return now - e.second.used > idle_ || now - e.second.created > longest_;
    });
  }
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.used > idle_ || now - it->second.created > longest_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.used = now;
  return it->second.session;
}

void SessionStore::PasswordChanged(const std::string& id, std::string credential) {
  std::lock_guard lock(mu_);
  if (auto it = sessions_.find(id); it != sessions_.end()) {
    it->second.session.must_change = false;
    it->second.session.credential = std::move(credential);
  }
}

void SessionStore::Remove(const std::string& id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

bool LoginLimiter::Begin(const std::string& source) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  if (failures_.size() > 4096) {
    std::erase_if(failures_, [&](const auto& e) {
      return e.second.in_flight == 0 && now - e.second.first > kWindow;
    });
  }
  Entry& entry = failures_[source];
  if (entry.failures > 0 && now - entry.first > kWindow) entry.failures = 0;
  if (entry.failures + entry.in_flight >= kMaxFailures) return false;
  ++entry.in_flight;
  return true;
}

void LoginLimiter::End(const std::string& source, bool wrong) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(source);
  if (it == failures_.end()) return;  // not Begun: nothing to end
  Entry& entry = it->second;
  if (entry.in_flight > 0) --entry.in_flight;
  if (wrong) {
    if (entry.failures == 0) entry.first = Clock::now();
    ++entry.failures;
  }
  if (entry.failures == 0 && entry.in_flight == 0) failures_.erase(it);
}

}  // namespace imprint::ca
