#pragma once
// The states the store keeps as text (the CHECK constraints of ca/store/schema.cc), as enums.
// SQL keeps its text; a row's text becomes an enum once, where the row is read, and an enum
// becomes text where it is written, printed or sent (Name). Parse is INVALID_ARGUMENT for text
// that is none of the names: from the store that means a row no migration wrote.

#include <string_view>

#include "common/error.h"

namespace imprint::ca {

// A device's state in the registry. kRevoked is never stored (a revocation is a row of its own):
// it is what a reader is shown for a revoked device's certificate (ShownState).
enum class DeviceState { kIssued, kVerified, kFailed, kRevoked };
enum class OrderState { kOpen, kClosed };
enum class StationState { kPending, kActive, kRevoked };
enum class ConsoleRole { kViewer, kOperator };
// An offline allowance (ca/allowance): live until revoked; its time limit is a column.
enum class AllowanceState { kGranted, kRevoked };

std::string_view Name(DeviceState state);     // "issued", "verified", "failed", "revoked"
std::string_view Name(OrderState state);      // "open", "closed"
std::string_view Name(StationState state);    // "pending", "active", "revoked"
std::string_view Name(ConsoleRole role);      // "viewer", "operator"
std::string_view Name(AllowanceState state);  // "granted", "revoked"

Result<DeviceState> ParseDeviceState(std::string_view text);
Result<OrderState> ParseOrderState(std::string_view text);
Result<StationState> ParseStationState(std::string_view text);
Result<ConsoleRole> ParseConsoleRole(std::string_view text);
Result<AllowanceState> ParseAllowanceState(std::string_view text);

// What a device reads as for anyone looking at it (exports, the console): a revocation wins
// over the state the line left.
inline DeviceState ShownState(DeviceState stored, bool revoked) {
  return revoked ? DeviceState::kRevoked : stored;
}

}  // namespace imprint::ca
