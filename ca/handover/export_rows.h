#pragma once
// An order's devices as the hand-over exports read them: in device-id order, one page at a
// time, so memory stays flat however large the order (libpq would otherwise hold a whole
// result in memory). Each page is its own query: devices the line adds to an open order while
// it is exported appear when their id sorts after the page being read.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ca/states.h"
#include "common/bytes.h"
#include "common/error.h"
#include "common/sql/database.h"

namespace imprint::ca {

struct ExportDevice {
  std::string device_id, station, serial_hex;
  DeviceState status = DeviceState::kIssued;  // as shown: a revocation wins (ShownState)
  Bytes certificate_der;
  int64_t issued_ms = 0;
  std::optional<int64_t> reported_ms;
  std::string revocation_reason;  // empty unless revoked
  int64_t revoked_ms = 0;
  std::string label_code;  // empty unless a label was bound by scan-back (docs/labels.md)
  int64_t label_bound_ms = 0;
};

class OrderDevices {
 public:
  OrderDevices(sql::Database& db, std::string order_id, int page_size = 1000)
      : db_(db), order_id_(std::move(order_id)), page_size_(page_size) {}

  // The next page; empty once every device was read.
  Result<std::vector<ExportDevice>> Next();
  // Calls `f` for every page, then for nothing; stops at its first error.
  Status ForEachPage(const std::function<Status(const std::vector<ExportDevice>&)>& f);
  // Calls `f` for every device, in order; stops at its first error.
  Status ForEach(const std::function<Status(const ExportDevice&)>& f);

 private:
  sql::Database& db_;
  std::string order_id_;
  int page_size_;
  std::string after_;  // the last device id read
  bool done_ = false;
};

}  // namespace imprint::ca
