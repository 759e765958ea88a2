#include "common/utc_time.h"

#include <catch2/catch.hpp>

namespace imprint {
namespace {

TEST_CASE("UTC times parse strictly and print back the same", "[time]") {
  auto t = ParseUtcTime("2026-11-24T14:00:00Z");
  REQUIRE(t.has_value());
  CHECK(*t == 1795528800000);
  CHECK(FormatUtcTime(*t) == "2026-11-24T14:00:00Z");
  CHECK(FormatUtcTime(*t + 999) == "2026-11-24T14:00:00Z");
  for (const char* bad :
       {"2026-11-24 14:00:00Z", "2026-11-24T14:00:00", "2026-11-24T14:00:00+01:00",
        "2026-02-30T00:00:00Z", "2026-11-24T24:00:00Z", "", "2026-1-24T14:00:00Z"}) {
    INFO(bad);
    auto r = ParseUtcTime(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace imprint
