#pragma once
// AuthFailures: what a peer without valid credentials costs the CA. Each failure (a bad or
// missing station certificate, a revoked station, a wrong enrollment token) is counted per
// source address in memory; the first one from a source in a window is logged, and when the
// window ends the count becomes one `auth.failed` audit record for that source and window.
// So a flood of 10,000 bad calls from one address writes one log line and one audit record a
// window, not 10,000 fsync'd records.
//
// The same counting serves the console's refusals of a viewer's operator actions
// (`console.denied`, keyed by user; AggregateAudit says which record a window becomes).
//
// Thread-safe. Record never touches the database; Flush (called by the server's housekeeping
// thread, and at shutdown) does.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "ca/audit/writer.h"

namespace imprint::ca {

// What a window's count is audited as: `event` with {key_field: KEY, count, first_ms, last_ms,
// reasons}, by the actor "unauthenticated" (no actor_prefix) or actor_prefix + KEY.
struct AggregateAudit {
  std::string event = "auth.failed";
  std::string key_field = "source";
  std::string actor_prefix;
  // The caller audits the first of each window itself, at once (Record returned true); the
  // window's record then counts the rest, and none is written when there was no other.
  bool first_written = false;
};

class AuthFailures {
 public:
  static constexpr int64_t kWindowMs = 60'000;
  static constexpr size_t kMaxSources = 1024;  // beyond this, sources are counted as "other"

  // `submit` runs a write transaction (Writer::Submit, or the console's writer).
  explicit AuthFailures(std::function<Status(const WriteOp&)> submit, int64_t window_ms = kWindowMs,
                        AggregateAudit audit = {})
      : submit_(std::move(submit)), window_ms_(window_ms), audit_(std::move(audit)) {}

  // Counts one failure from `source` (a peer address, port stripped) for `reason` (one of the
  // CA's own fixed messages, never peer-supplied text). True for the first of its window.
  bool Record(const std::string& source, const std::string& reason);

  // Writes one audit record per source whose window has ended (all of them when `everything`).
  Status Flush(bool everything);

  // Failures counted and not yet written (for tests and shutdown logging).
  uint64_t pending() const;

 private:
  struct Window {
    int64_t first_ms = 0;
    int64_t last_ms = 0;
    uint64_t count = 0;
    std::map<std::string, uint64_t> reasons;
  };

  std::function<Status(const WriteOp&)> submit_;
  const int64_t window_ms_;
  const AggregateAudit audit_;
  mutable std::mutex mu_;
  std::map<std::string, Window> open_;
};

// "ipv4:10.0.0.7:51234" -> "ipv4:10.0.0.7"; "ipv6:[::1]:443" -> "ipv6:[::1]" (gRPC's peer form).
std::string PeerSource(const std::string& peer);

}  // namespace imprint::ca
