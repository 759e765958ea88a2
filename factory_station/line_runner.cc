#include "factory_station/line_runner.h"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <sstream>
#include <thread>

#include "common/file_util.h"
#include "common/identifier.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/utc_time.h"
#include "factory_station/journal.h"
#include "factory_station/labels/records.h"
#include "factory_station/offline/reconcile.h"
#include "factory_station/offline/standing.h"
#include "factory_station/progress.h"
#include "factory_station/provisioner.h"
#include "factory_station/station_identity.h"

namespace imprint::station {
namespace {

constexpr auto kCaConnectTimeout = std::chrono::seconds(10);

RetryPolicy StationRetry(const ProvisionOptions& o) {
  RetryPolicy retry;
  retry.serial_timeout = std::chrono::milliseconds(o.serial_timeout_ms);
  return retry;
}

Result<std::vector<std::string>> DeviceList(const ProvisionOptions& o) {
  std::vector<std::string> devices = o.devices;
  if (!o.devices_file.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(o.devices_file));
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) devices.push_back(line);
    }
  }
  if (devices.empty()) return Fail(Code::kInvalidArgument, "no devices given");
  return devices;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

void PrintSummary(const LineSummary& s, std::ostream& out) {
  if (!s.lost_ca.empty()) {
    out << "offline: the CA was lost mid-run (" << s.lost_ca
        << "); the run went on under the allowance, and reconcile brings its devices to the CA\n";
  }
  out << "summary: " << s.provisioned << " provisioned, " << s.skipped << " already provisioned, "
      << s.failed << " failed in " << s.seconds << " s (" << s.devices_per_second
      << " devices/s; per device p50 " << s.p50_ms << " ms, p99 " << s.p99_ms << " ms)\n";
  for (const auto& f : s.failures) out << "failed: " << f << "\n";
  if (!s.stopped.empty()) {
    out << "stopped: " << s.stopped << "; " << s.not_started << " devices not started\n";
  }
  if (s.issued_streamed + s.issued_unary > 0) {
    out << "issuance: " << s.issued_streamed << " on " << s.issue_streams << " stream(s), "
        << s.issued_unary << " unary\n";
  }
  if (s.labels) {
    out << "labels: " << s.labels->printed << " printed, " << s.labels->waiting << " waiting, "
        << s.labels->in_doubt << " in doubt";
    if (s.labels->waiting > 0 && !s.labels->last_error.empty()) {
      out << " (" << s.labels->last_error << "; `imprint-station label print` sends them)";
    }
    out << "\n";
  }
}

// The label queue of a run with a printer: template and printer checked before any device.
Result<std::unique_ptr<LabelQueue>> OpenLabels(const ProvisionOptions& o, Journal& journal) {
  if (o.printer.empty() != o.label_template.empty()) {
    return Fail(Code::kInvalidArgument, "--printer and --label-template go together");
  }
  if (o.printer_wait_s < 0 || o.printer_wait_s > 3600) {
    return Fail(Code::kInvalidArgument, "--printer-wait takes 0..3600 seconds");
  }
  if (o.printer.empty()) return std::unique_ptr<LabelQueue>();
  // The order names the label files of a file: sink.
  if (!IsValidIdentifier(o.order)) return Fail(Code::kInvalidArgument, "invalid --order");
  IMPRINT_ASSIGN_OR_RETURN(LabelTemplate label_template, LabelTemplate::Load(o.label_template));
  IMPRINT_ASSIGN_OR_RETURN(auto printer, OpenPrinter(o.printer));
  auto queue = std::make_unique<LabelQueue>(journal, o.state_dir, o.order,
                                            std::move(label_template), std::move(printer));
  return queue;
}

// The station's allowance for the order, told to the operator before any device.
Result<std::unique_ptr<OfflineIssuer>> OpenOffline(const ProvisionOptions& o, X509* root,
                                                   std::ostream& out) {
  IMPRINT_ASSIGN_OR_RETURN(auto issuer, OfflineIssuer::Open(o.state_dir, o.order, root));
  IMPRINT_ASSIGN_OR_RETURN(int64_t left, issuer->Remaining());
  const offline::SignedAllowance& a = issuer->allowance();
  out << "offline: allowance " << a.id << " for order " << a.order << ", " << left << " of "
      << a.count << " certificates left, until " << FormatUtcTime(a.not_after_ms) << std::endl;
  return issuer;
}

}  // namespace

namespace {

// The station listener(s) to connect to: one node's, or, for several nodes, a gRPC target over
// all that answer ("ipv4:A:P,B:Q"), which fails over between them. Nodes that do not answer
// now are left out with a warning; none answering is an error.
Result<std::string> StationTarget(const StationIdentity& identity,
                                  const std::vector<std::string>& cas) {
  if (cas.size() == 1) return identity.FindStationListener(cas.front());
  std::vector<std::string> listeners;
  std::optional<Error> last;
  for (const std::string& ca : cas) {
    auto listener = identity.FindStationListener(ca);
    if (!listener) {
      LogWarning("CA node " + ca + " left out for now: " + listener.error().message());
      last = listener.error();
      continue;
    }
    std::string host = ListenHost(*listener);
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) != 1) {
      return Fail(Code::kInvalidArgument,
                  "several --ca need IPv4 addresses (" + *listener +
                      " is not one); put one name in front of the nodes instead");
    }
    listeners.push_back(*listener);
  }
  if (listeners.empty()) return std::unexpected(*last);
  std::string target = "ipv4:";
  for (size_t i = 0; i < listeners.size(); ++i) target += (i ? "," : "") + listeners[i];
  return target;
}

// Connects to the CA (one node or several) and makes the online provisioner. UNAVAILABLE when
// no node answers.
Status ConnectToCa(const ProvisionOptions& o, const StationIdentity& identity, Journal& journal,
                   LabelWriter& labels, std::unique_ptr<Provisioner>& provisioner,
                   std::ostream& out) {
  IMPRINT_ASSIGN_OR_RETURN(std::string station_listener, StationTarget(identity, o.ca_addresses));
  RetryPolicy retry = StationRetry(o);
  auto channel = identity.Connect(station_listener, retry);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + kCaConnectTimeout)) {
    return Fail(Code::kUnavailable,
                "cannot reach the CA's station listener at " + station_listener +
                    " (not listening, or the TLS handshake failed: is this station revoked or "
                    "its certificate expired?)");
  }
  // Online, the station learns whether its allowance for the order still stands.
  auto revoked = LearnStanding(o.state_dir, o.order, channel);
  if (!revoked) {
    LogWarning("could not ask whether the allowance still stands: " + revoked.error().message());
  } else if (*revoked) {
    out << "allowance for order " << o.order
        << ": revoked by the brand owner; nothing more is issued under it offline\n";
  }
  // Online again, what waited for the CA goes to it before the line starts: offline logs and
  // reports (docs/offline.md). The line does not wait on a failure here.
  if (o.reconcile_first) {
    auto reconciled = ReconcileLogs({o.state_dir, o.ca_addresses.front(), true, &journal});
    if (!reconciled) {
      // FAILED_PRECONDITION: nothing waited.
      if (reconciled.error().code() != Code::kFailedPrecondition) {
        LogWarning("reconcile before the line: " + reconciled.error().message());
      }
    } else if (!reconciled->allowances.empty() || reconciled->reports.taken > 0 ||
               !reconciled->reports.refused.empty()) {
      out << "reconcile before the line:\n";
      PrintReconciled(*reconciled, out);
    }
  }
  // Should the CA go away mid-run, the run goes on under the order's allowance if there is one.
  OfflineOpener fallback = [&o, &identity] {
    return OfflineIssuer::Open(o.state_dir, o.order, identity.root());
  };
  provisioner = std::make_unique<Provisioner>(o.order, channel, identity.root(), journal, labels,
                                              retry, std::move(fallback));
  provisioner->issuer()->set_use_stream(o.issue_rpc == "stream");
  return {};
}

}  // namespace

Result<LineSummary> RunLine(const ProvisionOptions& o, std::ostream& out) {
  if (o.parallel < 1 || o.parallel > 256)
    return Fail(Code::kInvalidArgument, "--parallel takes 1..256");
  if (o.issue_rpc != "stream" && o.issue_rpc != "unary")
    return Fail(Code::kInvalidArgument, "--issue-rpc takes stream or unary");
  if (o.serial_timeout_ms < 50 || o.serial_timeout_ms > 60000) {
    return Fail(Code::kInvalidArgument, "--serial-timeout-ms takes 50..60000");
  }
  IMPRINT_ASSIGN_OR_RETURN(std::vector<std::string> devices, DeviceList(o));
  IMPRINT_ASSIGN_OR_RETURN(StationIdentity identity, StationIdentity::Load(o.state_dir));
  IMPRINT_ASSIGN_OR_RETURN(auto journal, Journal::Open(o.state_dir + "/journal.db"));
  IMPRINT_ASSIGN_OR_RETURN(auto labels, LabelWriter::Open(o.state_dir + "/labels.jsonl"));
  IMPRINT_ASSIGN_OR_RETURN(auto label_queue, OpenLabels(o, *journal));
  std::unique_ptr<OfflineIssuer> offline;
  std::unique_ptr<Provisioner> provisioner;
  if (o.offline) {
    IMPRINT_ASSIGN_OR_RETURN(offline, OpenOffline(o, identity.root(), out));
  } else {
    // Reach the CA before touching any device: an unreachable CA (or a failed TLS handshake) is
    // one clear error instead of a failure per device, and the first device does not wait for
    // the handshake (it was the slowest device of every run: 31 ms against a 14 ms median).
    // With an allowance for the order, an unreachable CA sends the line offline instead.
    Status reached = ConnectToCa(o, identity, *journal, *labels, provisioner, out);
    if (!reached) {
      Code code = reached.error().code();
      if (code != Code::kUnavailable && code != Code::kDeadlineExceeded) {
        return std::unexpected(reached.error());
      }
      auto fallback = OpenOffline(o, identity.root(), out);
      if (!fallback) {
        return std::unexpected(Error(
            Code::kUnavailable, reached.error().message() +
                                    "; and no offline allowance: " + fallback.error().message()));
      }
      out << "offline: the CA cannot be reached (" << reached.error().message() << ")\n";
      offline = std::move(*fallback);
    }
  }
  if (offline) {
    provisioner = std::make_unique<Provisioner>(o.order, *offline, identity.root(), *journal,
                                                *labels, StationRetry(o));
  }
  if (label_queue) {
    IMPRINT_RETURN_IF_ERROR(label_queue->Start());  // labels an earlier run left waiting first
    provisioner->set_on_provisioned(
        [queue = label_queue.get()](const std::string& device) { queue->Committed(device); });
  }

  std::vector<DeviceResult> results(devices.size());
  std::atomic<size_t> next{0};
  auto start = std::chrono::steady_clock::now();
  {
    Progress progress(static_cast<int>(devices.size()));
    std::vector<std::thread> workers;
    int threads = std::min<int>(o.parallel, static_cast<int>(devices.size()));
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (size_t i = next.fetch_add(1); i < devices.size(); i = next.fetch_add(1)) {
          if (provisioner->allowance_spent()) {
            results[i].address = devices[i];
            results[i].outcome = Outcome::kNotStarted;
            progress.Done(false);
            continue;
          }
          results[i] = provisioner->Run(devices[i]);
          progress.Done(results[i].outcome == Outcome::kFailed);
        }
      });
    }
    for (auto& w : workers) w.join();
  }
  LineSummary s;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> times;
  for (const auto& r : results) {
    if (r.outcome == Outcome::kProvisioned) {
      ++s.provisioned;
      times.push_back(r.seconds * 1000);
    } else if (r.outcome == Outcome::kSkipped) {
      ++s.skipped;
    } else if (r.outcome == Outcome::kNotStarted) {
      ++s.not_started;
    } else {
      ++s.failed;
      s.failures.push_back((r.device_id.empty() ? r.address : r.device_id) + ": " + r.error);
    }
  }
  s.devices_per_second = s.seconds > 0 ? s.provisioned / s.seconds : 0;
  if (OfflineIssuer* issuer = provisioner->offline()) {
    s.offline = true;
    s.lost_ca = provisioner->lost_ca();
    IMPRINT_RETURN_IF_ERROR(issuer->Seal());  // the log's end, signed in the token
    if (provisioner->allowance_spent()) s.stopped = provisioner->allowance_spent_reason();
  }
  if (IssueStreamClient* issuer = provisioner->issuer()) {
    s.issued_streamed = issuer->streamed();
    s.issue_streams = issuer->streams_opened();
    s.issued_unary = issuer->unary();
  }
  if (label_queue) s.labels = label_queue->Finish(std::chrono::seconds(o.printer_wait_s));
  s.p50_ms = Percentile(times, 0.50);
  s.p99_ms = Percentile(times, 0.99);
  PrintSummary(s, out);
  return s;
}

Status PrintStatus(const std::string& state_dir, const std::string& order, std::ostream& out) {
  IMPRINT_ASSIGN_OR_RETURN(auto journal, Journal::Open(state_dir + "/journal.db"));
  IMPRINT_ASSIGN_OR_RETURN(auto counts, journal->Counts(order));
  out << (order.empty() ? std::string("all orders") : "order " + order) << ":";
  for (const char* outcome : {"provisioned", "skipped", "failed", "in_progress"}) {
    out << " " << outcome << " " << (counts.contains(outcome) ? counts[outcome] : 0);
  }
  out << "\n";
  return {};
}

}  // namespace imprint::station
