// The store's states as enums: each name reads back as its enum, and text the schema does not
// allow is refused with a message naming the accepted ones.

#include "ca/states.h"

#include <catch2/catch.hpp>

namespace imprint::ca {
namespace {

template <typename E, typename Parse>
void RoundTrips(std::initializer_list<E> all, Parse parse) {
  for (E e : all) {
    auto back = parse(Name(e));
    REQUIRE(back.has_value());
    CHECK(*back == e);
  }
}

TEST_CASE("every state reads back from its name", "[unit]") {
  RoundTrips(
      {DeviceState::kIssued, DeviceState::kVerified, DeviceState::kFailed, DeviceState::kRevoked},
      ParseDeviceState);
  RoundTrips({OrderState::kOpen, OrderState::kClosed}, ParseOrderState);
  RoundTrips({StationState::kPending, StationState::kActive, StationState::kRevoked},
             ParseStationState);
  RoundTrips({ConsoleRole::kViewer, ConsoleRole::kOperator}, ParseConsoleRole);
  RoundTrips({AllowanceState::kGranted, AllowanceState::kRevoked}, ParseAllowanceState);
  CHECK(Name(DeviceState::kVerified) == "verified");
  CHECK(Name(OrderState::kClosed) == "closed");
  CHECK(Name(StationState::kActive) == "active");
  CHECK(Name(ConsoleRole::kOperator) == "operator");
}

TEST_CASE("text that is no state is refused, naming the states", "[unit]") {
  auto role = ParseConsoleRole("admin");
  REQUIRE_FALSE(role.has_value());
  CHECK(role.error().code() == Code::kInvalidArgument);
  CHECK(role.error().message() == "unknown role \"admin\" (viewer, operator)");
  CHECK_FALSE(ParseDeviceState("Verified").has_value());  // case matters, as in the schema
  CHECK_FALSE(ParseOrderState("").has_value());
  CHECK_FALSE(ParseStationState("active ").has_value());
}

TEST_CASE("a revocation wins over the state the line left", "[unit]") {
  CHECK(ShownState(DeviceState::kVerified, true) == DeviceState::kRevoked);
  CHECK(ShownState(DeviceState::kFailed, true) == DeviceState::kRevoked);
  CHECK(ShownState(DeviceState::kVerified, false) == DeviceState::kVerified);
  CHECK(ShownState(DeviceState::kIssued, false) == DeviceState::kIssued);
}

}  // namespace
}  // namespace imprint::ca
