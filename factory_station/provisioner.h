#pragma once
// Provisioner: one device's journaled transaction, the design's eight steps:
// identify -> key + CSR on the device -> issue -> secrets -> install -> prove -> commit -> report.
// Before the device commits, the station checks that the certificate chains to the root it
// enrolled with, that its key is the CSR's key, and that the device's proof signature verifies
// with it; any mismatch fails the device (reported to the CA) and leaves it uncommitted.
//
// Thread-safe: many devices run at once, each on its own worker thread.

#include <openssl/x509.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "factory_station/chain_cache.h"
#include "factory_station/issue_stream.h"
#include "factory_station/journal.h"
#include "factory_station/labels/records.h"
#include "factory_station/offline/issuer.h"
#include "factory_station/retry.h"
#include "imprint/v1/agent.grpc.pb.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::station {

// kNotStarted: offline, the line stopped before this device (the allowance was spent).
enum class Outcome { kProvisioned, kSkipped, kFailed, kNotStarted };

struct DeviceResult {
  std::string address;
  std::string device_id;
  Outcome outcome = Outcome::kFailed;
  std::string error;  // for failures: the step and the CA's or agent's message
  double seconds = 0;
};

// Opens the station's allowance for the order (OfflineIssuer::Open).
using OfflineOpener = std::function<Result<std::unique_ptr<OfflineIssuer>>()>;

class Provisioner {
 public:
  // `ca_channel` reaches the CA's station listener (StationIdentity::Connect). With `fallback`,
  // the first device that finds the CA out of reach past its retries opens the allowance, and
  // from then this run goes on offline (docs/offline.md, "Switching mid-run"): devices in flight
  // are finished under the allowance with the key they made, new ones start offline.
  Provisioner(std::string order, std::shared_ptr<grpc::Channel> ca_channel, X509* root,
              Journal& journal, LabelWriter& labels, RetryPolicy retry = {},
              OfflineOpener fallback = {})
      : order_(std::move(order)),
        ca_channel_(std::move(ca_channel)),
        ca_(imprint::v1::CertificateAuthority::NewStub(ca_channel_)),
        issuer_(std::make_unique<IssueStreamClient>(ca_channel_)),
        root_(root),
        journal_(journal),
        labels_(labels),
        retry_(retry),
        fallback_(std::move(fallback)) {}
  // Offline (docs/offline.md): `offline` issues certificates and passwords within the station's
  // allowance, the proofs go into its log, and no call reaches the CA.
  Provisioner(std::string order, OfflineIssuer& offline, X509* root, Journal& journal,
              LabelWriter& labels, RetryPolicy retry = {})
      : order_(std::move(order)),
        root_(root),
        journal_(journal),
        labels_(labels),
        retry_(retry),
        offline_(&offline) {}

  DeviceResult Run(const std::string& address);
  // Issuance requests go on one stream when the CA offers it (factory_station/issue_stream.h);
  // null offline.
  IssueStreamClient* issuer() { return issuer_.get(); }
  // Called with each device whose run ended provisioned or skipped, once the journal has it
  // (the label queue). Set before the first Run.
  void set_on_provisioned(std::function<void(const std::string&)> f) {
    on_provisioned_ = std::move(f);
  }

  // Offline: the allowance refused a certificate (used up, or ended); the line starts no more
  // devices. The reason is the allowance's message.
  bool allowance_spent() const { return allowance_spent_.load(); }
  // The issuer of this run's offline devices: from the start, or since the CA was lost; null
  // while the run is online.
  OfflineIssuer* offline() const { return offline_.load(); }
  // Why a run that began online went offline ("" when it did not).
  std::string lost_ca() const {
    std::lock_guard lock(switch_mu_);
    return lost_ca_;
  }
  std::string allowance_spent_reason() const {
    std::lock_guard lock(spent_mu_);
    return spent_reason_;
  }

 private:
  class Transaction;
  // The allowance the run goes on under once the CA is lost (`why`); null without one.
  OfflineIssuer* GoOffline(const Error& why);

  std::string order_;
  std::shared_ptr<grpc::Channel> ca_channel_;
  std::unique_ptr<imprint::v1::CertificateAuthority::Stub> ca_;
  std::unique_ptr<IssueStreamClient> issuer_;
  X509* root_;
  Journal& journal_;
  LabelWriter& labels_;
  RetryPolicy retry_;
  OfflineOpener fallback_;
  std::atomic<OfflineIssuer*> offline_{nullptr};
  mutable std::mutex switch_mu_;
  bool fallback_tried_ = false;                  // guarded by switch_mu_
  std::unique_ptr<OfflineIssuer> owned_issuer_;  // guarded by switch_mu_: the fallback's
  std::string lost_ca_;                          // guarded by switch_mu_
  std::atomic<bool> allowance_spent_{false};
  mutable std::mutex spent_mu_;
  std::string spent_reason_;  // guarded by spent_mu_
  ChainCache chains_;
  std::function<void(const std::string&)> on_provisioned_;
};

}  // namespace imprint::station
