#pragma once
// Renewal of an allowance's subordinate CA (docs/offline.md, "Validity"). At fetch the root
// certifies the station's subordinate key until the allowance ends, so a device the station
// signed offline fails path validation from then on. Once the brand owner has reconciled what
// they expect, `allowance renew` has the root certify the same key again, with the same subject,
// until 99991231235959Z (as devices' own certificates): the device chains through either
// certificate, and through the renewed one for good. The renewed certificate is kept with the
// allowance, audited (allowance.renewed), answered for by the root's OCSP responder and listed
// in the root's CRL if the allowance is revoked; manifests and OCSP responses for the devices
// carry it.

#include <string>

#include "ca/config.h"
#include "common/bytes.h"
#include "common/error.h"

namespace imprint::ca {

struct RenewedSubordinate {
  std::string allowance_id;
  std::string serial_hex;
  Bytes der;
  bool renewed_now = false;  // false: renewed before; the same certificate again
};

// The newest fetched allowance of `order_id` for `station`. NOT_FOUND when there is none;
// FAILED_PRECONDITION when it was revoked. Renewing twice gives the first renewal's certificate.
// Writes it, then the root, to RenewedSubordinatePath.
Result<RenewedSubordinate> AllowanceRenewCommand(const CaConfig& config,
                                                 const std::string& order_id,
                                                 const std::string& station);

// <state_dir>/allowances/<allowance>-subordinate.pem
std::string RenewedSubordinatePath(const CaConfig& config, const std::string& allowance_id);

}  // namespace imprint::ca
