#pragma once
// ChainCache: the CA chain of issuance responses, parsed once. Every response from one CA
// carries the same chain, and in OpenSSL 3.0 each d2i_X509 runs a provider key decoder
// (0.1-0.2 ms each on the project machine), so parsing it per device was a tenth of the
// station's CPU per device.
//
// Thread-safe. The certificates handed out are shared and never modified.

#include <google/protobuf/repeated_ptr_field.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::station {

struct ParsedChain {
  std::vector<std::string> der;             // as received
  std::vector<x509::X509Ptr> certificates;  // same order
};

class ChainCache {
 public:
  // The parsed `chain_der`: the cached one when the bytes are the same, else parsed anew
  // (and cached). INVALID_ARGUMENT for a malformed certificate.
  Result<std::shared_ptr<const ParsedChain>> Get(
      const google::protobuf::RepeatedPtrField<std::string>& chain_der);

 private:
  std::mutex mu_;
  std::shared_ptr<const ParsedChain> last_;  // guarded by mu_
};

}  // namespace imprint::station
