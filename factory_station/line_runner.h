#pragma once
// LineRunner: `imprint-station provision`: drives N devices at once through the Provisioner,
// shows progress (a live bar on a terminal, plain periodic lines otherwise), and prints the
// summary: counts, failures with their reasons, devices per second, p50/p99 per-device time.

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/error.h"
#include "factory_station/labels/queue.h"

namespace imprint::station {

struct ProvisionOptions {
  std::string state_dir;
  // One or more CA nodes of one store (HOST:PORT of their open listeners). With several, the
  // station connects to the first that answers and moves to another when it fails (gRPC's
  // pick_first over the nodes' station listeners); their hosts must then be IP addresses.
  std::vector<std::string> ca_addresses;
  std::string order;
  std::vector<std::string> devices;  // HOST:PORT of each agent
  std::string devices_file;          // or a file with one HOST:PORT per line
  int serial_timeout_ms = 1000;      // RetryPolicy::serial_timeout
  int parallel = 4;
  // Issue within the station's allowance for the order, without the CA (docs/offline.md). Also
  // chosen by itself when the CA cannot be reached and the station holds a live allowance.
  bool offline = false;
  // Online, first send what waited for the CA (offline logs, reports). imprint-bench's online
  // rounds leave it to the reconcile it times.
  bool reconcile_first = true;
  // Labels (docs/labels.md): where each provisioned device's label goes (tcp://HOST[:PORT] or
  // file:DIR), from which template, and how long the run waits at its end for labels a slow or
  // absent printer holds back. No printer: labels.jsonl only.
  std::string printer;
  std::string label_template;
  int printer_wait_s = 10;
  // How certificates are asked for: "stream" (one imprint.v1.StationIssuance stream for every
  // fixture, when the CA offers it; else unary) or "unary" (one IssueDeviceCertificate each).
  std::string issue_rpc = "stream";
};

struct LineSummary {
  int provisioned = 0;
  int skipped = 0;
  int failed = 0;
  double seconds = 0;
  double devices_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::vector<std::string> failures;  // "DEVICE: reason"
  bool offline = false;
  std::string lost_ca;  // a run begun online that went offline mid-run: why
  // Offline only: why the line stopped before every device was tried (the allowance used up or
  // ended); the devices it did not start are `not_started`.
  std::string stopped;
  int not_started = 0;
  std::optional<LabelSummary> labels;  // with a printer
  // Online: certificate requests answered on the issuance stream, on how many streams (one
  // unless the connection was lost), and by the unary RPC.
  uint64_t issued_streamed = 0;
  uint64_t issue_streams = 0;
  uint64_t issued_unary = 0;
};

// Runs the batch. Returns the summary (also printed to `out`); an Error only when the batch
// could not start (no identity, unreadable devices file, ...).
Result<LineSummary> RunLine(const ProvisionOptions& options, std::ostream& out);

// `imprint-station status`: counts by outcome from the journal.
Status PrintStatus(const std::string& state_dir, const std::string& order, std::ostream& out);

}  // namespace imprint::station
