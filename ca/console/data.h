#pragma once
// What the console's JSON API answers (docs/console.md, "API"), read from the store: each
// function takes a read connection and returns the JSON body.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.h"
#include "common/sql/database.h"

namespace imprint::ca {

inline constexpr int64_t kLineWindowMs = 10 * 60 * 1000;
inline constexpr int64_t kLineBucketMs = 10 * 1000;

// Devices issued per station in 10-second buckets over the last 10 minutes (oldest first),
// and the failures of that window, newest first: refused issuance (quota, a station not on
// the order, duplicate keys or devices) and devices that failed their checks, with reasons.
Result<nlohmann::json> LineNow(sql::Database& db, int64_t now_ms);
// Every order with quota, issued, verified, failed, revoked, its stations and status.
Result<nlohmann::json> OrdersJson(sql::Database& db);
// One order and up to `limit` of its devices whose id starts with `prefix`, in id order.
// NOT_FOUND for an unknown order.
Result<nlohmann::json> OrderJson(sql::Database& db, const std::string& id,
                                 const std::string& prefix, int limit);
// Every station: status, enrollment, devices issued in the last minute, failed, revoked, and
// `last_seen_ms` from this node's memory (calls it served).
Result<nlohmann::json> StationsJson(sql::Database& db, int64_t now_ms,
                                    const std::map<std::string, int64_t>& last_seen_ms);
// The audit chain head and the newest checkpoint.
Result<nlohmann::json> AuditHeadJson(sql::Database& db);

}  // namespace imprint::ca
