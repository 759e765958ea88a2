#pragma once
// CaMetrics: what `GET /metrics` on the console listener reports, in the Prometheus text
// exposition format (docs/console.md lists every metric). Events are counted as they happen
// (issuance, failures, HSM signatures, station calls); facts the store holds (audit records
// and checkpoints, quota left per open order) are read from it at scrape time, so every CA
// node reports the same. Thread-safe; counting costs a few atomic operations, and nothing is
// formatted until someone scrapes.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/sql/connection_pool.h"

namespace imprint::ca {

class CaMetrics {
 public:
  CaMetrics();

  // A certificate was issued (not an idempotent repeat) for `order` by `station`, the call
  // having taken `seconds`.
  void CertificateIssued(const std::string& order, const std::string& station, double seconds);
  // One issuing-key signature in the token: its latency, and whether the token failed it.
  void HsmSign(double seconds, bool ok);
  // A station call that was refused or failed, by reason: the gRPC code's name in lower case
  // ("resource_exhausted", "failed_precondition", ...) or "device_failed" for a device the
  // station reported as failing its checks. Reasons are the CA's own words, never peer text.
  void Failure(std::string_view reason);
  // An authenticated call from `station`: "connected" means a call within the last minute.
  void StationSeen(const std::string& station);
  // When each station last called this node (ms since the epoch).
  std::map<std::string, int64_t> LastSeenMs();

  // The exposition text. `reads` gives the store facts; `sessions_reopened` is the token
  // session pool's count of sessions replaced after faults.
  Result<std::string> Scrape(sql::ConnectionPool& reads, size_t sessions_reopened);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& issued_;
  prometheus::Histogram& issue_seconds_;
  prometheus::Histogram& hsm_seconds_;
  prometheus::Counter& hsm_errors_;
  prometheus::Family<prometheus::Counter>& failures_;

  std::mutex mu_;  // guards the two maps below
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> issued_by_;
  std::map<std::string, int64_t> station_seen_;  // ms since the epoch
};

}  // namespace imprint::ca
