#pragma once
// `imprint-station matter onboarding`: the onboarding codes of an order's Matter devices as a
// CSV for packaging (docs/matter.md, "What goes on the label"), read from this station's label
// records. The CA never holds the passcodes, so this list can only come from the stations that
// printed them.

#include <ostream>
#include <string>

#include "common/error.h"

namespace imprint::station {

// Writes `out_path` (mode 0600, new: an existing file is refused) with the header
// device_id,serial,qr_payload,manual_code,discriminator,vendor_id,product_id and one row per
// Matter device of `order` in <state_dir>/labels.jsonl, its last record winning (a device
// provisioned again after a crash). Returns the number of rows. NOT_FOUND when the order has no
// Matter labels here.
Result<int> WriteMatterOnboarding(const std::string& state_dir, const std::string& order,
                                  const std::string& out_path);

}  // namespace imprint::station
