#include "ca/console/metrics.h"

#include <prometheus/text_serializer.h>

#include "common/utc_time.h"

namespace imprint::ca {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

constexpr int64_t kConnectedWindowMs = 60'000;

const prometheus::Histogram::BucketBoundaries kIssueBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1,   0.25,   0.5,   1,    2.5,   5};
const prometheus::Histogram::BucketBoundaries kHsmBuckets{
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5};

}  // namespace

CaMetrics::CaMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      issued_(BuildCounter()
                  .Name("imprint_certificates_issued_total")
                  .Help("Device certificates issued, by order and station")
                  .Register(*registry_)),
      issue_seconds_(BuildHistogram()
                         .Name("imprint_issuance_seconds")
                         .Help("Time to issue a device certificate, from the call to the commit")
                         .Register(*registry_)
                         .Add({}, kIssueBuckets)),
      hsm_seconds_(BuildHistogram()
                       .Name("imprint_hsm_sign_seconds")
                       .Help("Time of one signature with the issuing key in the token")
                       .Register(*registry_)
                       .Add({}, kHsmBuckets)),
      hsm_errors_(BuildCounter()
                      .Name("imprint_hsm_errors_total")
                      .Help("Signatures the token failed")
                      .Register(*registry_)
                      .Add({})),
      failures_(
          BuildCounter()
              .Name("imprint_failures_total")
              .Help("Station calls refused or failed, and devices reported failing, by reason")
              .Register(*registry_)) {}

void CaMetrics::CertificateIssued(const std::string& order, const std::string& station,
                                  double seconds) {
  issue_seconds_.Observe(seconds);
  prometheus::Counter* counter = nullptr;
  {
    std::lock_guard lock(mu_);
    auto& slot = issued_by_[{order, station}];
    if (!slot) slot = &issued_.Add({{"order", order}, {"station", station}});
    counter = slot;
  }
  counter->Increment();
}

void CaMetrics::HsmSign(double seconds, bool ok) {
  hsm_seconds_.Observe(seconds);
  if (!ok) hsm_errors_.Increment();
}

void CaMetrics::Failure(std::string_view reason) {
  failures_.Add({{"reason", std::string(reason)}}).Increment();
}

void CaMetrics::StationSeen(const std::string& station) {
  int64_t now = NowMs();
  std::lock_guard lock(mu_);
  station_seen_[station] = now;
}

std::map<std::string, int64_t> CaMetrics::LastSeenMs() {
  std::lock_guard lock(mu_);
  return station_seen_;
}

Result<std::string> CaMetrics::Scrape(sql::ConnectionPool& reads, size_t sessions_reopened) {
  // Store facts go into a registry made for this scrape, so an order that closed disappears.
  prometheus::Registry store;
  auto& records = BuildGauge()
                      .Name("imprint_audit_records")
                      .Help("Records in the audit log")
                      .Register(store)
                      .Add({});
  auto& checkpoints = BuildGauge()
                          .Name("imprint_audit_checkpoints")
                          .Help("Signed audit checkpoints")
                          .Register(store)
                          .Add({});
  auto& sealed = BuildGauge()
                     .Name("imprint_audit_sealed_seq")
                     .Help("Newest record a signed checkpoint seals")
                     .Register(store)
                     .Add({});
  auto& quota = BuildGauge()
                    .Name("imprint_order_quota_remaining")
                    .Help(
                        "Certificates an open order may still issue online (quota less issued "
                        "and less what offline allowances hold)")
                    .Register(store);
  auto& connected = BuildGauge()
                        .Name("imprint_stations_connected")
                        .Help("Stations that called in the last minute")
                        .Register(store)
                        .Add({});
  auto& reopened = BuildGauge()
                       .Name("imprint_hsm_session_recoveries")
                       .Help("Token sessions replaced after faults since the CA started")
                       .Register(store)
                       .Add({});
  {
    auto db = reads.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(
        auto audit,
        db->Prepare("SELECT (SELECT COALESCE(MAX(seq), 0) FROM audit_log), (SELECT COUNT(*) FROM "
                    "audit_checkpoints), (SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints)"));
    IMPRINT_ASSIGN_OR_RETURN(bool row, audit.Step());
    if (row) {
      records.Set(static_cast<double>(audit.ColumnInt64(0)));
      checkpoints.Set(static_cast<double>(audit.ColumnInt64(1)));
      sealed.Set(static_cast<double>(audit.ColumnInt64(2)));
    }
    IMPRINT_ASSIGN_OR_RETURN(
        auto orders,
        db->Prepare("SELECT id, quota - issued - reserved FROM orders WHERE status = 'open' "
                    "ORDER BY id"));
    for (;;) {
      IMPRINT_ASSIGN_OR_RETURN(bool more, orders.Step());
      if (!more) break;
      quota.Add({{"order", orders.ColumnText(0)}}).Set(static_cast<double>(orders.ColumnInt64(1)));
    }
  }
  {
    int64_t now = NowMs();
    std::lock_guard lock(mu_);
    double n = 0;
    for (const auto& [station, seen] : station_seen_) n += now - seen < kConnectedWindowMs ? 1 : 0;
    connected.Set(n);
  }
  reopened.Set(static_cast<double>(sessions_reopened));
  auto families = registry_->Collect();
  for (auto& family : store.Collect()) families.push_back(std::move(family));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace imprint::ca
