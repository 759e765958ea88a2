#pragma once
// The CA's certificates as `init` leaves them in the state directory: root.pem, chain.pem
// (issuing CA then root), tls-cert.pem (server certificate then issuing CA), tls-key.pem.

#include <string>
#include <vector>

#include "ca/config.h"
#include "common/bytes.h"
#include "common/file_util.h"
#include "common/identifier.h"
#include "common/x509/openssl_types.h"

namespace imprint::ca {

struct CaCertificates {
  x509::X509Ptr issuing;
  x509::X509Ptr root;
  std::vector<Bytes> chain_der;  // issuing CA first, root last

  // FAILED_PRECONDITION when the CA has not been initialised.
  static Result<CaCertificates> Load(const CaConfig& config);
};

// Device ids, order ids, station names and products follow imprint::IsValidIdentifier
// (common/identifier.h).
using imprint::IsValidIdentifier;

}  // namespace imprint::ca
