#include "ca/audit_anchor.h"

#include <algorithm>

#include "ca/audit_json.h"
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

Status AuditAnchor::AddRefusal(const nlohmann::json& refusal) {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  IMPRINT_ASSIGN_OR_RETURN(auto kept,
                           p11::ReadDataObjects(lease, kAuditRefusalsLabel, kMaxRefusals));
  if (kept.size() >= kMaxRefusals) {
    LogWarning("the token already keeps " + std::to_string(kMaxRefusals) +
               " refusals; this one is only in the log");
    return {};
  }
  IMPRINT_RETURN_IF_ERROR(
      p11::CreateDataObject(lease, kAuditRefusalsLabel, kApplication, AsBytes(JsonLine(refusal))));
  return {};
}

Result<AuditAnchor::Refusals> AuditAnchor::ReadRefusals() {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  IMPRINT_ASSIGN_OR_RETURN(auto kept,
                           p11::ReadDataObjects(lease, kAuditRefusalsLabel, kMaxRefusals));
  Refusals out;
  for (const auto& object : kept) {
    auto item = nlohmann::json::parse(Text(object.value), nullptr, false);
    // Only a PIN holder can write these; record what can be said about an unreadable one.
    if (item.is_discarded() || !item.is_object()) item = {{"unreadable_refusal", true}};
    out.items.push_back(std::move(item));
    out.handles.push_back(object.handle);
  }
  // Tokens list objects in no set order; audit them in the order they happened.
  std::vector<size_t> order(out.items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto when = [&](size_t i) { return out.items[i].value("refused_ms", int64_t{0}); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return when(a) < when(b); });
  Refusals sorted;
  for (size_t i : order) {
    sorted.items.push_back(std::move(out.items[i]));
    sorted.handles.push_back(out.handles[i]);
  }
  return sorted;
}

Status AuditAnchor::ClearRefusals(const Refusals& read) {
  IMPRINT_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  for (CK_OBJECT_HANDLE handle : read.handles) {
    IMPRINT_RETURN_IF_ERROR(p11::DestroyObject(lease, handle));
  }
  return {};
}

}  // namespace imprint::ca
