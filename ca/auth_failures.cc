#include "ca/auth_failures.h"

#include <vector>

#include "common/log.h"
#include "common/utc_time.h"

namespace imprint::ca {

std::string PeerSource(const std::string& peer) {
  size_t colon = peer.rfind(':');
  size_t bracket = peer.rfind(']');
  bool has_port = colon != std::string::npos && colon > peer.find(':') &&
                  (bracket == std::string::npos || colon > bracket);
  std::string source = has_port ? peer.substr(0, colon) : peer;
  if (source.empty()) return "unknown";
  return source.size() > 80 ? source.substr(0, 80) : source;
}

bool AuthFailures::Record(const std::string& source, const std::string& reason) {
  int64_t now = NowMs();
  bool first = false;
  std::string key = source;
  {
    std::lock_guard lock(mu_);
    if (!open_.contains(key) && open_.size() >= kMaxSources) key = "other";
    Window& w = open_[key];
    if (w.first_ms == 0) {
      w.first_ms = now;
      first = true;
    }
    // The caller audits a window's first on its own when audit_.first_written says so.
    if (!(first && audit_.first_written)) {
      w.last_ms = now;
      ++w.count;
      ++w.reasons[reason];
    }
  }
  if (first && audit_.actor_prefix.empty()) {
    LogWarning("authentication failed from " + key + ": " + reason +
               " (further failures from this source are counted for " +
               std::to_string(window_ms_ / 1000) + " s, then audited as one record)");
  }
  return first;
}

Status AuthFailures::Flush(bool everything) {
  int64_t now = NowMs();
  std::vector<std::pair<std::string, Window>> due;
  {
    std::lock_guard lock(mu_);
    for (auto it = open_.begin(); it != open_.end();) {
      if (everything || now - it->second.first_ms >= window_ms_) {
        // A window holding only a first that its caller audited has nothing to write.
        if (it->second.count > 0) due.emplace_back(it->first, std::move(it->second));
        it = open_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (due.empty()) return {};
  Status written = submit_([&](WriteContext& ctx) -> Status {
    for (const auto& [source, w] : due) {
      nlohmann::json reasons = nlohmann::json::object();
      for (const auto& [reason, n] : w.reasons) reasons[reason] = n;
      std::string actor =
          audit_.actor_prefix.empty() ? "unauthenticated" : audit_.actor_prefix + source;
      IMPRINT_RETURN_IF_ERROR(ctx.Audit(actor, audit_.event,
                                        {{audit_.key_field, source},
                                         {"count", w.count},
                                         {"first_ms", w.first_ms},
                                         {"last_ms", w.last_ms},
                                         {"reasons", reasons}}));
    }
    return {};
  });
  if (!written) {
    // Keep the counts: they are merged back and written with the next flush.
    std::lock_guard lock(mu_);
    for (auto& [source, w] : due) {
      Window& into = open_[source];
      if (into.count == 0 || w.first_ms < into.first_ms) into.first_ms = w.first_ms;
      into.last_ms = std::max(into.last_ms, w.last_ms);
      into.count += w.count;
      for (const auto& [reason, n] : w.reasons) into.reasons[reason] += n;
    }
  }
  return written;
}

uint64_t AuthFailures::pending() const {
  std::lock_guard lock(mu_);
  uint64_t n = 0;
  for (const auto& [source, w] : open_) n += w.count;
  return n;
}

}  // namespace imprint::ca
