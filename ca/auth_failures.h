#pragma once
// AuthFailures: what a peer without valid credentials costs the CA. Each failure (a bad or
// missing station certificate, a revoked station, a wrong enrollment token) is counted per
// source address in memory; the first one from a source in a window is logged, and when the
// window ends the count becomes one `auth.failed` audit record for that source and window.
// So a flood of 10,000 bad calls from one address writes one log line and one audit record a
// window, not 10,000 fsync'd records.
//
// Thread-safe. Record never touches the database; Flush (called by the server's housekeeping
// thread, and at shutdown) does.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "ca/audit/writer.h"

namespace imprint::ca {

class AuthFailures {
 public:
  static constexpr int64_t kWindowMs = 60'000;
  static constexpr size_t kMaxSources = 1024;  // beyond this, sources are counted as "other"

  explicit AuthFailures(Writer& writer, int64_t window_ms = kWindowMs)
      : writer_(writer), window_ms_(window_ms) {}

  // Counts one failure from `source` (a peer address, port stripped) for `reason` (one of the
  // CA's own fixed messages, never peer-supplied text).
  void Record(const std::string& source, const std::string& reason);

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

  Writer& writer_;
  const int64_t window_ms_;
  mutable std::mutex mu_;
  std::map<std::string, Window> open_;
};

// "ipv4:10.0.0.7:51234" -> "ipv4:10.0.0.7"; "ipv6:[::1]:443" -> "ipv6:[::1]" (gRPC's peer form).
std::string PeerSource(const std::string& peer);

}  // namespace imprint::ca
