#pragma once
// LabelQueue: prints each provisioned device's label once (docs/labels.md). Provisioning hands
// it a device once its transaction has ended provisioned; one worker renders the label from the
// template, the device's label record and its certificate, and sends it. The journal makes it
// exactly once across crashes: waiting -> sending -> printed. A label found `sending` at start
// was cut by a crash: a file sink says whether it was written; a network printer cannot, so the
// label is left in doubt for an operator (`imprint-station label reprint`), never sent twice by
// itself. A printer that does not answer holds labels back, never the line: they wait, retried
// with a growing pause, and are printed when it returns (or by `label print` later).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.h"
#include "factory_station/journal.h"
#include "factory_station/labels/printer.h"
#include "factory_station/labels/records.h"
#include "factory_station/labels/template.h"

namespace imprint::station {

struct LabelSummary {
  int printed = 0;              // by this run
  int waiting = 0;              // provisioned, not printed yet
  int in_doubt = 0;             // cut by a crash while sending to a printer that cannot tell
  int waiting_unprintable = 0;  // of waiting: a label that cannot be made (see last_error)
  std::string last_error;
};

class LabelQueue {
 public:
  // `state_dir` holds the journal's labels.jsonl.
  LabelQueue(Journal& journal, const std::string& state_dir, std::string order,
             LabelTemplate label_template, std::unique_ptr<LabelPrinter> printer);
  ~LabelQueue();

  // Queues the order's labels that wait (provisioned devices, earlier runs included), settles
  // those a crash cut while sending, and starts the worker.
  Status Start();
  // A device whose transaction ended provisioned.
  void Committed(const std::string& device);
  // Lets the worker go on until nothing waits or `wait` passed, then stops it.
  LabelSummary Finish(std::chrono::milliseconds wait);

  // One label now, outside the queue, as print number `print` (a reprint is the device's
  // prints + 1). The journal records sending and printed; a failed send puts the label back
  // in state `before`.
  Status PrintNow(const std::string& device, int print, const std::string& before);

 private:
  void Work();
  // Prints `device`'s label if it still waits; false when the printer failed (retry later).
  bool PrintWaiting(const std::string& device);
  Result<Secret> Render(const std::string& device);

  Journal& journal_;
  std::string order_;
  LabelTemplate template_;
  std::unique_ptr<LabelPrinter> printer_;
  LabelRecords records_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_at_;
  LabelSummary summary_;
  std::thread worker_;
};

}  // namespace imprint::station
