#pragma once
// A PAI's CRL (docs/matter.md, "Revocation"): the revoked DACs of every Matter order under one
// PAI, signed by the PAI's key in the token, as the DCL's revocation distribution points
// publish it (a vendor hosts it at the URL it registered in the DCL). Written on demand by
// `imprint-ca matter crl`; each one's number grows and is audited (matter.pai_crl_issued).

#include <cstdint>
#include <string>

#include "ca/config.h"
#include "common/bytes.h"
#include "common/error.h"

namespace imprint::ca {

struct PaiCrl {
  uint64_t number = 0;
  int64_t entries = 0;
  std::string path;  // DER; PEM beside it with ".pem" appended
};

// Signs and writes <state_dir>/crl/matter-<label>.crl (and .pem): NOT_FOUND for a label that
// is not an imported PAI.
Result<PaiCrl> IssuePaiCrl(const CaConfig& config, const std::string& label);

}  // namespace imprint::ca
