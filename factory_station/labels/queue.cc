#include "factory_station/labels/queue.h"

#include <algorithm>

#include "common/label_code.h"
#include "common/log.h"
#include "common/x509/encoding.h"

namespace imprint::station {
namespace {

constexpr auto kFirstPause = std::chrono::milliseconds(200);
constexpr auto kLongestPause = std::chrono::milliseconds(5000);

}  // namespace

LabelQueue::LabelQueue(Journal& journal, const std::string& state_dir, std::string order,
                       LabelTemplate label_template, std::unique_ptr<LabelPrinter> printer)
    : journal_(journal),
      order_(std::move(order)),
      template_(std::move(label_template)),
      printer_(std::move(printer)),
      records_(state_dir + "/labels.jsonl", order_) {}

LabelQueue::~LabelQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    stop_at_ = std::chrono::steady_clock::now();
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Status LabelQueue::Start() {
  IMPRINT_ASSIGN_OR_RETURN(std::vector<LabelRow> rows, journal_.Labels(order_));
  for (const LabelRow& row : rows) {
    if (!row.provisioned || row.bound) continue;
    if (row.state == "sending") {
      // Cut by a crash while sending: settled only where the sink can tell.
      std::optional<bool> delivered = printer_->Delivered(order_ + "." + row.device, row.prints);
      if (!delivered) {
        ++summary_.in_doubt;
        LogWarning("the label of " + row.device + " may have been printed before the station " +
                   "stopped: check the printer, then `imprint-station label reprint`");
        continue;
      }
      IMPRINT_RETURN_IF_ERROR(journal_.LabelState(order_, row.device,
                                                  *delivered ? "printed" : "waiting",
                                                  *delivered ? row.prints : row.prints - 1));
      if (*delivered) continue;
    } else if (row.state != "waiting") {
      continue;
    }
    queue_.push_back(row.device);
  }
  worker_ = std::thread([this] { Work(); });
  return {};
}

void LabelQueue::Committed(const std::string& device) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(device);
  }
  wake_.notify_all();
}

LabelSummary LabelQueue::Finish(std::chrono::milliseconds wait) {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    stop_at_ = std::chrono::steady_clock::now() + wait;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard lock(mu_);
  summary_.waiting = static_cast<int>(queue_.size()) + summary_.waiting_unprintable;
  return summary_;
}

// After Finish the worker goes on while the printer takes labels; a failing printer is retried
// until Finish's deadline.
void LabelQueue::Work() {
  auto pause = kFirstPause;
  auto past_deadline = [&] { return stopping_ && std::chrono::steady_clock::now() >= stop_at_; };
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    std::string device = queue_.front();
    queue_.pop_front();
    lock.unlock();
    bool done = PrintWaiting(device);
    lock.lock();
    if (done) {
      pause = kFirstPause;
      continue;
    }
    queue_.push_front(device);  // the printer failed: the same label first when it returns
    auto until = std::chrono::steady_clock::now() + pause;
    while (!past_deadline() && std::chrono::steady_clock::now() < until) {
      auto wake_at = stopping_ ? std::min(until, stop_at_) : until;
      wake_.wait_until(lock, wake_at);
    }
    if (past_deadline()) return;
    pause = std::min(pause * 2, kLongestPause);
  }
}

bool LabelQueue::PrintWaiting(const std::string& device) {
  auto row = journal_.Label(order_, device);
  if (!row || !*row || (*row)->state != "waiting" || (*row)->bound || !(*row)->provisioned) {
    return true;  // printed already, in doubt, not ours, or unknown: nothing to send
  }
  Status printed = PrintNow(device, (*row)->prints + 1, "waiting");
  std::lock_guard lock(mu_);
  if (printed) {
    ++summary_.printed;
    return true;
  }
  summary_.last_error = printed.error().message();
  if (printed.error().code() == Code::kUnavailable) return false;
  // A label that cannot be made (a missing record, a value ZPL cannot carry) waits for an
  // operator; retrying would not change it.
  ++summary_.waiting_unprintable;
  LogWarning("label of " + device + ": " + printed.error().message());
  return true;
}

Result<Secret> LabelQueue::Render(const std::string& device) {
  IMPRINT_ASSIGN_OR_RETURN(auto journaled, journal_.Find(order_, device));
  if (!journaled || journaled->certificate_der.empty()) {
    return Fail(Code::kFailedPrecondition, "the journal holds no certificate of " + device);
  }
  IMPRINT_ASSIGN_OR_RETURN(const LabelRecord* found, records_.Find(device));
  // A device given no secret has no record: its label may still carry its id and codes.
  static const LabelRecord kNone;
  const LabelRecord* record = found != nullptr ? found : &kNone;
  if (record->secrets_dropped) {
    return Fail(Code::kFailedPrecondition,
                "the label of " + device + " is bound: its secrets were dropped from this station");
  }
  const Bytes& der = journaled->certificate_der;
  IMPRINT_ASSIGN_OR_RETURN(x509::X509Ptr certificate, x509::ParseCertificateDer(der));
  IMPRINT_ASSIGN_OR_RETURN(std::string serial, x509::SerialHex(certificate.get()));
  std::string fingerprint = HexEncode(x509::Sha256(der));
  std::string code = LabelCode(der);
  auto secret = [](const Secret& s) -> std::optional<std::string_view> {
    if (s.empty()) return std::nullopt;
    return s.Reveal();
  };
  auto plain = [](const std::string& s) -> std::optional<std::string_view> {
    if (s.empty()) return std::nullopt;
    return std::string_view(s);
  };
  return template_.Render([&](std::string_view name) -> std::optional<std::string_view> {
    if (name == "device_id") return device;
    if (name == "order") return order_;
    if (name == "serial") return std::string_view(serial);
    if (name == "fingerprint") return fingerprint;
    if (name == "label_code") return code;
    if (name == "password") return secret(record->password);
    if (name == "matter_qr") return secret(record->matter_qr);
    if (name == "matter_manual_code") return secret(record->matter_manual_code);
    if (name == "matter_discriminator") return plain(record->matter_discriminator);
    if (name == "matter_vendor_id") return plain(record->matter_vendor_id);
    if (name == "matter_product_id") return plain(record->matter_product_id);
    return std::nullopt;
  });
}

Status LabelQueue::PrintNow(const std::string& device, int print, const std::string& before) {
  IMPRINT_ASSIGN_OR_RETURN(Secret zpl, Render(device));
  IMPRINT_RETURN_IF_ERROR(journal_.LabelState(order_, device, "sending", print));
  Status sent = printer_->Print(order_ + "." + device, print, zpl);
  if (!sent) {
    IMPRINT_RETURN_IF_ERROR(journal_.LabelState(order_, device, before, print - 1));
    return sent;
  }
  records_.Forget(device);
  return journal_.LabelState(order_, device, "printed", print);
}

}  // namespace imprint::station
