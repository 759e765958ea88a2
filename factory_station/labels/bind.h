#pragma once
// `imprint-station label bind`: scan-back (docs/labels.md). Pairs each unit with the label
// stuck on it and asks the CA to bind them: the unit's id as the unit itself states it (asked
// from its agent on a fixture, or scanned from its own marking) and the code scanned from the
// label. A USB scanner types each scan as a line ending in Enter. Input lines hold either
// "UNIT LABEL" (a file of pairs) or one scan each, taken in turn as unit then label; with
// --device, each fixture's agent names the unit and each input line is its label.
//
// The CA judges every pair (label.bound or label.refused in its audit log); the station adds
// what its journal knows ("carries the label of device A"), counts refusals and says them
// loudly on stderr. Once bound, the device's secrets leave the station's label records.

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "common/error.h"

namespace imprint::station {

struct BindOptions {
  std::string state_dir;
  std::string ca_address;
  std::string order;
  std::vector<std::string> devices;  // agents on fixtures (HOST:PORT or serial:PATH)
};

struct BindSummary {
  int bound = 0;
  int already = 0;     // bound before: nothing changed
  int refused = 0;     // the CA said no, or the scan was not a label code
  int unanswered = 0;  // the CA could not be asked
  int secrets_dropped = 0;
};

// An Error only when nothing could start (no identity, no CA listener).
Result<BindSummary> BindLabels(const BindOptions& options, std::istream& in, std::ostream& out,
                               std::ostream& err);

}  // namespace imprint::station
