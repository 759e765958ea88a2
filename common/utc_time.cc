#include "common/utc_time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace imprint {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<int64_t> ParseUtcTime(std::string_view text) {
  auto bad = [&] {
    return Fail(Code::kInvalidArgument,
                "time '" + std::string(text.substr(0, 40)) + "' is not YYYY-MM-DDTHH:MM:SSZ (UTC)");
  };
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != kShape.size()) return bad();
  for (size_t i = 0; i < kShape.size(); ++i) {
    bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return bad();
  }
  auto number = [&](size_t at, size_t len) {
    int v = 0;
    for (size_t i = at; i < at + len; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(5, 2) - 1;
  tm.tm_mday = number(8, 2);
  tm.tm_hour = number(11, 2);
  tm.tm_min = number(14, 2);
  tm.tm_sec = number(17, 2);
  std::tm asked = tm;
  std::time_t t = timegm(&tm);
  // timegm normalises 2026-02-30 into March: a date that moved was not a real one.
  if (tm.tm_year != asked.tm_year || tm.tm_mon != asked.tm_mon || tm.tm_mday != asked.tm_mday ||
      tm.tm_hour != asked.tm_hour || tm.tm_min != asked.tm_min || tm.tm_sec != asked.tm_sec) {
    return bad();
  }
  return static_cast<int64_t>(t) * 1000;
}

std::string FormatUtcTime(int64_t ms) {
  std::string out = FormatUtcTimeMs(ms);
  return out.substr(0, 19) + "Z";
}

std::string FormatUtcTimeMs(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[80];
  std::snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return out;
}

}  // namespace imprint
