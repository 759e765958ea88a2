#pragma once
// UTC times as operators type them and imprint prints them: RFC 3339 with a "Z", to the
// second ("2026-11-24T14:00:00Z"). Times inside imprint are milliseconds since the epoch.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace imprint {

// The system clock now, in milliseconds since the epoch.
int64_t NowMs();

// INVALID_ARGUMENT unless `text` is exactly YYYY-MM-DDTHH:MM:SSZ and a real date and time.
Result<int64_t> ParseUtcTime(std::string_view text);
std::string FormatUtcTime(int64_t ms);
// With milliseconds, "2026-11-24T14:00:00.123Z" (the manifest's provisioningTimestamp).
std::string FormatUtcTimeMs(int64_t ms);

}  // namespace imprint
