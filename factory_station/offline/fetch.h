#pragma once
// `imprint-station allowance fetch` (docs/offline.md): once, while the CA is in reach, the
// station makes a subordinate issuing key in its own token, sends a CSR for it, and keeps what
// the CA answers after checking it: the subordinate CA certificate must chain through the
// allowance CA to the root the station enrolled with and be for the token's key, and the
// signed allowance must verify with the allowance CA's key and name this order and key.
//
// In the state directory, under offline/:
//   <order>.key            the label of the token key for the order's allowance
//   <allowance>/allowance.jws, subordinate.pem (the subordinate CA, then the root), key-label,
//              log.db (offline/log.h)
//   <order>.current        the id of the order's allowance last fetched

#include <string>

#include "common/error.h"
#include "common/offline/signed_allowance.h"

namespace imprint::station {

struct FetchOptions {
  std::string state_dir;
  std::string ca_address;
  std::string order;
};

struct FetchedAllowance {
  offline::SignedAllowance allowance;
  std::string key_label;
  bool again = false;  // the same allowance and certificate as an earlier fetch
};

Result<FetchedAllowance> FetchAllowance(const FetchOptions& options);

}  // namespace imprint::station
