#pragma once
// Offline allowances (issue 27, docs/offline.md): the brand owner's permission for one station
// to issue up to `count` certificates of one order while the CA cannot be reached, until
// `not_after`. A grant takes its count from the order's quota at once: online issuance then
// sees the smaller remainder (issued + reserved <= quota), so allowances and online issuance
// together never exceed the quota. A revocation returns what the allowance did not use.
//
// These are the books at the CA. The station's subordinate key (fetch), offline issuance and
// reconciliation, which fills `used`, build on them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ca/audit/write_context.h"
#include "ca/states.h"
#include "common/error.h"
#include "common/sql/database.h"

namespace imprint::ca {

// The longest allowance: the window in which a copied station token could issue is this long.
constexpr int64_t kMaxAllowanceMs = int64_t{31} * 24 * 3600 * 1000;

struct AllowanceGrant {
  std::string order_id;
  std::string station;
  int64_t count = 0;
  int64_t valid_for_ms = 0;
};

struct Allowance {
  std::string id;  // 32 hex digits from the token's random generator; also the allowance's nonce
  std::string order_id;
  std::string station;
  int64_t count = 0;
  int64_t used = 0;  // devices recorded from it at reconciliation
  AllowanceState state = AllowanceState::kGranted;
  int64_t granted_ms = 0;
  int64_t not_after_ms = 0;
  std::optional<int64_t> revoked_ms;
  std::string revoke_reason;
  int64_t violations = 0;  // found by reconcile in the station's log

  // Granted, not yet reconciled in full: count - used while it is live, 0 once revoked.
  int64_t outstanding() const { return state == AllowanceState::kGranted ? count - used : 0; }
};

// "72h", "30m", "7d", "90s": a positive duration of at most kMaxAllowanceMs, in milliseconds.
Result<int64_t> ParseValidFor(std::string_view text);

// INVALID_ARGUMENT unless both are valid identifiers (checked before anything is opened).
Status CheckOrderAndStation(const std::string& order_id, const std::string& station);

// INVALID_ARGUMENT for a bad order id or station name, a count below 1 or a validity outside
// (0, kMaxAllowanceMs]. Checked before anything is opened.
Status CheckAllowanceGrant(const AllowanceGrant& grant);

// Records the allowance `id` and moves its count into the order's reserved share; audited as
// allowance.granted. NOT_FOUND: no such order or station; FAILED_PRECONDITION: the order is
// closed, the station is not on it or not active; ALREADY_EXISTS: the station holds a live
// allowance for the order; RESOURCE_EXHAUSTED: the order has fewer certificates left.
Result<Allowance> GrantAllowance(WriteContext& ctx, const AllowanceGrant& grant,
                                 const std::string& id);

// Ends the station's live allowance for the order and returns its unused count to the order;
// audited as allowance.revoked with the reason. NOT_FOUND when there is none. `reason`: 1-200
// printable characters (it goes into the audit log), else INVALID_ARGUMENT.
Result<Allowance> RevokeAllowance(WriteContext& ctx, const std::string& order_id,
                                  const std::string& station, const std::string& reason);

// Every allowance, or those of one order, oldest first.
Result<std::vector<Allowance>> ListAllowances(sql::Database& db, const std::string& order_id);

}  // namespace imprint::ca
