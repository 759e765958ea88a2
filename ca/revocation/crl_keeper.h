#pragma once
// CrlKeeper: keeps the CA's CRLs current while it serves. At its start, and then once a second,
// it publishes a new CRL of each list when the store's is stale (a revocation by an admin
// command or another node) or half its validity old, and writes the files whenever the store
// holds a newer CRL than this node wrote. With several nodes, the first to publish a number
// wins; the others write its CRL.

#include <array>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ca/ca_files.h"
#include "ca/config.h"
#include "ca/hsm.h"
#include "ca/revocation/crl_publisher.h"
#include "common/sql/connection_pool.h"

namespace imprint::ca {

// One list this CA publishes and the key that signs it.
struct CrlSource {
  CrlList list = CrlList::kIssuing;
  CrlSigner signer;
};

// What this CA publishes: the issuing list; the offline list when it has a URL
// (status.crl_url); the root's list when the root key is in the token.
struct CrlSources {
  std::unique_ptr<p11::Pkcs11Signer> root;  // the root key, when in the token
  std::vector<CrlSource> lists;
};
Result<CrlSources> LoadCrlSources(const CaConfig& config, CaHsm& hsm, const CaCertificates& certs);

class CrlKeeper {
 public:
  // `sources` (their signers) outlive the keeper.
  CrlKeeper(const CaConfig& config, sql::ConnectionPool& reads, std::vector<CrlSource> sources,
            WriteFn write);
  ~CrlKeeper();  // stops; a publication in progress finishes first
  CrlKeeper(const CrlKeeper&) = delete;
  CrlKeeper& operator=(const CrlKeeper&) = delete;

  // The newest CRL of `list` this node has written (null before the first, or when this CA
  // does not publish that list).
  std::shared_ptr<const CrlInfo> current(CrlList list = CrlList::kIssuing) const;
  bool publishes(CrlList list) const;

 private:
  void Run();
  void KeepOnce();
  void KeepOne(const CrlSource& source);

  const CaConfig& config_;
  sql::ConnectionPool& reads_;
  const std::vector<CrlSource> sources_;
  WriteFn write_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::array<std::shared_ptr<const CrlInfo>, std::size(kCrlLists)> current_;  // by list
  std::array<std::string, std::size(kCrlLists)> last_error_;  // logged once until it changes
  std::thread thread_;
};

}  // namespace imprint::ca
