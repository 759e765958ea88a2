#include "ca/audit/anchor.h"

#include <algorithm>

#include "ca/audit/json.h"
#include "ca/config.h"
#include "common/log.h"
#include "common/pkcs11/data_object.h"

namespace imprint::ca {
namespace {

constexpr const char* kApplication = "imprint-ca";

std::string Text(const Bytes& value) { return std::string(value.begin(), value.end()); }

}  // namespace

Result<std::optional<audit::Checkpoint>> AuditAnchor::Read() {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  IMPRINT_ASSIGN_OR_RETURN(auto objects, p11::ReadDataObjects(lease, kAuditAnchorLabel, 8));
  std::optional<audit::Checkpoint> newest;
  for (const auto& object : objects) {
    auto checkpoint = ParseCheckpointLine(Text(object.value));
    if (!checkpoint) {
      return Fail(Code::kDataLoss, std::string("a token object labelled ") + kAuditAnchorLabel +
                                       " is not a checkpoint: " + checkpoint.error().message());
    }
    if (newest && newest->seq == checkpoint->seq &&
        audit::CheckpointHash(*newest) != audit::CheckpointHash(*checkpoint)) {
      return Fail(Code::kDataLoss, "the token holds two different audit anchors for record " +
                                       std::to_string(checkpoint->seq));
    }
    if (!newest || checkpoint->seq > newest->seq) newest = std::move(*checkpoint);
  }
  return newest;
}

Status AuditAnchor::Write(const audit::Checkpoint& checkpoint) {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  IMPRINT_ASSIGN_OR_RETURN(auto old, p11::ReadDataObjects(lease, kAuditAnchorLabel, 8));
  IMPRINT_RETURN_IF_ERROR(p11::CreateDataObject(lease, kAuditAnchorLabel, kApplication,
                                                AsBytes(JsonLine(CheckpointJson(checkpoint)))));
  for (const auto& object : old) IMPRINT_RETURN_IF_ERROR(p11::DestroyObject(lease, object.handle));
  return {};
}

Status AuditAnchor::Keep(const KeptEvent& event) {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  IMPRINT_ASSIGN_OR_RETURN(auto kept, p11::ReadDataObjects(lease, kAuditPendingLabel, kMaxKept));
  if (kept.size() >= kMaxKept) {
    LogWarning("the token already keeps " + std::to_string(kMaxKept) + " pending audit events; " +
               event.event + " is only in this log");
    return {};
  }
  nlohmann::json item = {{"event", event.event}, {"detail", event.detail}};
  IMPRINT_RETURN_IF_ERROR(
      p11::CreateDataObject(lease, kAuditPendingLabel, kApplication, AsBytes(JsonLine(item))));
  return {};
}

Result<AuditAnchor::Kept> AuditAnchor::ReadKept() {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  IMPRINT_ASSIGN_OR_RETURN(auto objects, p11::ReadDataObjects(lease, kAuditPendingLabel, kMaxKept));
  std::vector<std::pair<KeptEvent, CK_OBJECT_HANDLE>> read;
  for (const auto& object : objects) {
    auto item = nlohmann::json::parse(Text(object.value), nullptr, false);
    KeptEvent event{"audit.pending_unreadable", nlohmann::json::object()};
    // Only a PIN holder can write these; an unreadable one is still put on record.
    if (!item.is_discarded() && item.is_object() && item.value("event", "").starts_with("audit.") &&
        item.contains("detail") && item["detail"].is_object()) {
      event = {item["event"].get<std::string>(), item["detail"]};
    }
    read.emplace_back(std::move(event), object.handle);
  }
  // Tokens list objects in no set order; audit them in the order they happened.
  auto when = [](const KeptEvent& e) { return e.detail.value("time_ms", int64_t{0}); };
  std::stable_sort(read.begin(), read.end(),
                   [&](const auto& a, const auto& b) { return when(a.first) < when(b.first); });
  Kept out;
  for (auto& [event, handle] : read) {
    out.events.push_back(std::move(event));
    out.handles.push_back(handle);
  }
  return out;
}

Status AuditAnchor::ClearKept(const Kept& read) {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  for (CK_OBJECT_HANDLE handle : read.handles) {
    IMPRINT_RETURN_IF_ERROR(p11::DestroyObject(lease, handle));
  }
  return {};
}

}  // namespace imprint::ca
