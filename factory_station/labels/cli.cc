#include "factory_station/labels/cli.h"

#include <fstream>
#include <iostream>

#include "common/identifier.h"
#include "factory_station/labels/queue.h"

namespace imprint::station {
namespace {

int Fail(const Error& error) {
  std::cerr << "imprint-station: " << error.ToString() << "\n";
  return 1;
}

struct Opened {
  std::unique_ptr<Journal> journal;
  std::unique_ptr<LabelQueue> queue;
};

Result<Opened> OpenQueue(const std::string& state_dir, const std::string& order,
                         const std::string& printer_uri, const std::string& template_path) {
  if (!IsValidIdentifier(order)) return imprint::Fail(Code::kInvalidArgument, "invalid --order");
  IMPRINT_ASSIGN_OR_RETURN(LabelTemplate label_template, LabelTemplate::Load(template_path));
  IMPRINT_ASSIGN_OR_RETURN(auto printer, OpenPrinter(printer_uri));
  Opened o;
  IMPRINT_ASSIGN_OR_RETURN(o.journal, Journal::Open(state_dir + "/journal.db"));
  o.queue = std::make_unique<LabelQueue>(*o.journal, state_dir, order, std::move(label_template),
                                         std::move(printer));
  return o;
}

}  // namespace

LabelCommands::LabelCommands(CLI::App& app) {
  auto* label = app.add_subcommand("label", "device labels: print, reprint, bind (scan-back)");
  label->require_subcommand(1);
  auto printing = [&](CLI::App* cmd) {
    cmd->add_option("--state-dir", state_dir_)->required();
    cmd->add_option("--order", order_, "production order id")->required();
    cmd->add_option("--printer", printer_, "tcp://HOST[:PORT] or file:DIR")->required();
    cmd->add_option("--label-template", template_, "ZPL template (docs/labels.md)")->required();
  };
  print_ = label->add_subcommand("print", "print the order's labels that wait for a printer");
  printing(print_);
  print_->add_option("--printer-wait", printer_wait_s_,
                     "seconds to keep retrying a printer that does not answer");
  reprint_ = label->add_subcommand("reprint", "print one device's label again (logged)");
  printing(reprint_);
  reprint_->add_option("--device", device_, "the device id")->required();
  reprint_->add_option("--reason", reason_, "why (kept in the journal)")->required();

  bind_ = label->add_subcommand("bind",
                                "scan-back: bind each unit to the label stuck on it, at the CA");
  bind_->add_option("--state-dir", bind_options_.state_dir)->required();
  bind_->add_option("--ca", bind_options_.ca_address, "CA HOST:PORT")->required();
  bind_->add_option("--order", bind_options_.order, "production order id")->required();
  bind_->add_option("--device", bind_options_.devices,
                    "ask the unit's id from its agent on this fixture (repeatable)");
  bind_->add_option("--pairs", pairs_, "read scans from this file instead of stdin");

  status_ = label->add_subcommand("status", "labels waiting, in doubt, printed and bound");
  status_->add_option("--state-dir", state_dir_)->required();
  status_->add_option("--order", order_)->required();
}

std::optional<int> LabelCommands::Run() {
  if (*print_) return Print();
  if (*reprint_) return Reprint();
  if (*status_) return Status();
  if (*bind_) {
    std::ifstream file;
    if (!pairs_.empty()) {
      file.open(pairs_);
      if (!file) return Fail(Error(Code::kNotFound, "cannot read " + pairs_));
    }
    auto summary =
        BindLabels(bind_options_, pairs_.empty() ? std::cin : file, std::cout, std::cerr);
    if (!summary) return Fail(summary.error());
    return summary->refused == 0 && summary->unanswered == 0 ? 0 : 1;
  }
  return std::nullopt;
}

int LabelCommands::Print() {
  if (printer_wait_s_ < 0 || printer_wait_s_ > 3600) {
    return Fail(Error(Code::kInvalidArgument, "--printer-wait takes 0..3600 seconds"));
  }
  auto opened = OpenQueue(state_dir_, order_, printer_, template_);
  if (!opened) return Fail(opened.error());
  if (auto started = opened->queue->Start(); !started) return Fail(started.error());
  LabelSummary s = opened->queue->Finish(std::chrono::seconds(printer_wait_s_));
  std::cout << "labels: " << s.printed << " printed, " << s.waiting << " waiting, " << s.in_doubt
            << " in doubt";
  if (s.waiting > 0 && !s.last_error.empty()) std::cout << " (" << s.last_error << ")";
  std::cout << std::endl;
  return s.waiting == 0 ? 0 : 1;
}

int LabelCommands::Reprint() {
  auto opened = OpenQueue(state_dir_, order_, printer_, template_);
  if (!opened) return Fail(opened.error());
  if (!IsValidIdentifier(device_)) return Fail(Error(Code::kInvalidArgument, "invalid --device"));
  auto row = opened->journal->Label(order_, device_);
  if (!row) return Fail(row.error());
  if (!*row || !(*row)->provisioned) {
    return Fail(Error(Code::kNotFound,
                      "no label of a provisioned device " + device_ + " on order " + order_));
  }
  const LabelRow& label = **row;
  if (label.bound) {
    return Fail(
        Error(Code::kFailedPrecondition,
              "the label of " + device_ + " is bound to its unit; its secrets left this station"));
  }
  if (label.state == "waiting") {
    return Fail(Error(Code::kFailedPrecondition, "the label of " + device_ +
                                                     " was never printed: `imprint-station "
                                                     "label print` sends it"));
  }
  std::string reason = EscapeForDisplay(reason_, 200);
  if (reason.empty()) return Fail(Error(Code::kInvalidArgument, "--reason must say why"));
  // Logged before it is sent: a reprint that reached the printer is never unrecorded.
  auto logged = opened->journal->LabelEvent(
      order_, device_, "reprint", "print " + std::to_string(label.prints + 1) + ": " + reason);
  if (!logged) return Fail(logged.error());
  auto printed = opened->queue->PrintNow(device_, label.prints + 1, label.state);
  if (!printed) return Fail(printed.error());
  std::cout << "label of " << device_ << " printed again (print " << label.prints + 1 << ") on "
            << printer_ << std::endl;
  return 0;
}

int LabelCommands::Status() {
  auto journal = Journal::Open(state_dir_ + "/journal.db");
  if (!journal) return Fail(journal.error());
  auto rows = (*journal)->Labels(order_);
  if (!rows) return Fail(rows.error());
  int waiting = 0, in_doubt = 0, printed = 0, external = 0, bound = 0, reprinted = 0;
  std::string doubtful;
  for (const LabelRow& r : *rows) {
    if (!r.provisioned) continue;
    if (r.bound) ++bound;
    if (r.prints > 1) ++reprinted;
    if (r.state == "waiting") ++waiting;
    if (r.state == "printed") ++printed;
    if (r.state == "external") ++external;
    if (r.state == "sending") {
      ++in_doubt;
      doubtful += " " + r.device;
    }
  }
  std::cout << "order " << order_ << ": labels waiting " << waiting << ", in doubt " << in_doubt
            << ", printed " << printed << " (" << reprinted << " reprinted), without a printer "
            << external << ", bound " << bound << "\n";
  if (!doubtful.empty()) std::cout << "in doubt:" << doubtful << "\n";
  std::cout << std::flush;
  return 0;
}

}  // namespace imprint::station
