#include "ca/revocation/crl_keeper.h"

#include <chrono>

#include "common/log.h"

namespace imprint::ca {

CrlKeeper::CrlKeeper(const CaConfig& config, sql::ConnectionPool& reads, CrlSigner signer,
                     WriteFn write)
    : config_(config), reads_(reads), signer_(signer), write_(std::move(write)) {
  // The first check before serving: a CA answers GET /crl/issuing.crl from its start, and
  // what it publishes at start is done before the caller goes on.
  KeepOnce();
  thread_ = std::thread([this] { Run(); });
}

CrlKeeper::~CrlKeeper() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<const CrlInfo> CrlKeeper::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void CrlKeeper::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    KeepOnce();
    lock.lock();
  }
}

void CrlKeeper::KeepOnce() {
  auto have = current();
  auto kept = [&]() -> Result<CrlInfo> {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(CrlInfo crl, PublishCrl(config_, *db, signer_, write_, "ca", false));
    // Current already, but newer than this node's files (another node or `crl issue`).
    if (crl.der.empty() && (have == nullptr || have->number != crl.number)) {
      return CurrentCrl(*db);
    }
    return crl;
  }();
  Status written = kept ? Status() : Status(std::unexpected(kept.error()));
  if (kept && (have == nullptr || have->number != kept->number)) {
    written = WriteCrlFiles(config_, *kept);
    if (written) {
      LogInfo("CRL " + std::to_string(kept->number) + " with " + std::to_string(kept->entries) +
              " entries written to " + CrlPath(config_));
      std::lock_guard lock(mu_);
      current_ = std::make_shared<const CrlInfo>(std::move(*kept));
    }
  }
  std::string error = written ? "" : written.error().message();
  if (error != last_error_ && !error.empty()) LogWarning("CRL not kept current: " + error);
  last_error_ = error;
}

}  // namespace imprint::ca
