#include "ca/states.h"

#include <array>
#include <string>
#include <utility>

namespace imprint::ca {
namespace {

template <typename E, size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

constexpr Names<DeviceState, 4> kDeviceStates{{{DeviceState::kIssued, "issued"},
                                               {DeviceState::kVerified, "verified"},
                                               {DeviceState::kFailed, "failed"},
                                               {DeviceState::kRevoked, "revoked"}}};
constexpr Names<OrderState, 2> kOrderStates{
    {{OrderState::kOpen, "open"}, {OrderState::kClosed, "closed"}}};
constexpr Names<StationState, 3> kStationStates{{{StationState::kPending, "pending"},
                                                 {StationState::kActive, "active"},
                                                 {StationState::kRevoked, "revoked"}}};
constexpr Names<ConsoleRole, 2> kConsoleRoles{
    {{ConsoleRole::kViewer, "viewer"}, {ConsoleRole::kOperator, "operator"}}};
constexpr Names<AllowanceState, 2> kAllowanceStates{
    {{AllowanceState::kGranted, "granted"}, {AllowanceState::kRevoked, "revoked"}}};

template <typename E, size_t N>
std::string_view NameIn(const Names<E, N>& names, E value) {
  for (const auto& [e, name] : names) {
    if (e == value) return name;
  }
  return "?";  // unreachable: every enumerator is listed
}

template <typename E, size_t N>
Result<E> ParseIn(const Names<E, N>& names, std::string_view text, const char* what) {
  for (const auto& [e, name] : names) {
    if (name == text) return e;
  }
  std::string list;
  for (const auto& [e, name] : names) list += (list.empty() ? "" : ", ") + std::string(name);
  return Fail(Code::kInvalidArgument, std::string("unknown ") + what + " \"" +
                                          std::string(text.substr(0, 40)) + "\" (" + list + ")");
}

}  // namespace

std::string_view Name(DeviceState state) { return NameIn(kDeviceStates, state); }
std::string_view Name(OrderState state) { return NameIn(kOrderStates, state); }
std::string_view Name(StationState state) { return NameIn(kStationStates, state); }
std::string_view Name(ConsoleRole role) { return NameIn(kConsoleRoles, role); }
std::string_view Name(AllowanceState state) { return NameIn(kAllowanceStates, state); }

Result<DeviceState> ParseDeviceState(std::string_view text) {
  return ParseIn(kDeviceStates, text, "device state");
}
Result<OrderState> ParseOrderState(std::string_view text) {
  return ParseIn(kOrderStates, text, "order state");
}
Result<StationState> ParseStationState(std::string_view text) {
  return ParseIn(kStationStates, text, "station state");
}
Result<ConsoleRole> ParseConsoleRole(std::string_view text) {
  return ParseIn(kConsoleRoles, text, "role");
}
Result<AllowanceState> ParseAllowanceState(std::string_view text) {
  return ParseIn(kAllowanceStates, text, "allowance state");
}

}  // namespace imprint::ca
