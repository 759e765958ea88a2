#include "factory_station/chain_cache.h"

#include <algorithm>

#include "common/x509/encoding.h"

namespace imprint::station {

Result<std::shared_ptr<const ParsedChain>> ChainCache::Get(
    const google::protobuf::RepeatedPtrField<std::string>& chain_der) {
  {
    std::lock_guard lock(mu_);
    if (last_ &&
        std::equal(last_->der.begin(), last_->der.end(), chain_der.begin(), chain_der.end())) {
      return last_;
    }
  }
  auto parsed = std::make_shared<ParsedChain>();
  for (const auto& der : chain_der) {
    IMPRINT_ASSIGN_OR_RETURN(auto cert, x509::ParseCertificateDer(AsBytes(der)));
    parsed->der.push_back(der);
    parsed->certificates.push_back(std::move(cert));
  }
  std::lock_guard lock(mu_);
  last_ = parsed;
  return last_;
}

}  // namespace imprint::station
