#pragma once
// CrlKeeper: keeps the CRL current while the CA serves. At its start, and then once a second,
// it publishes a new CRL
// when the store's is stale (a revocation by an admin command or another node) or half its
// validity old, and writes the files whenever the store holds a newer CRL than this node
// wrote. With several nodes, the first to publish a number wins; the others write its CRL.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ca/config.h"
#include "ca/revocation/crl_publisher.h"
#include "common/sql/connection_pool.h"

namespace imprint::ca {

class CrlKeeper {
 public:
  CrlKeeper(const CaConfig& config, sql::ConnectionPool& reads, CrlSigner signer, WriteFn write);
  ~CrlKeeper();  // stops; a publication in progress finishes first
  CrlKeeper(const CrlKeeper&) = delete;
  CrlKeeper& operator=(const CrlKeeper&) = delete;

  // The newest CRL this node has written (null before the first).
  std::shared_ptr<const CrlInfo> current() const;

 private:
  void Run();
  void KeepOnce();

  const CaConfig& config_;
  sql::ConnectionPool& reads_;
  CrlSigner signer_;
  WriteFn write_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::shared_ptr<const CrlInfo> current_;
  std::string last_error_;  // logged once until it changes
  std::thread thread_;
};

}  // namespace imprint::ca
