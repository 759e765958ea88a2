#include "ca/revocation/crl_keeper.h"

#include <chrono>

#include "ca/delegated_key.h"
#include "common/log.h"

namespace imprint::ca {

Result<CrlSources> LoadCrlSources(const CaConfig& config, CaHsm& hsm, const CaCertificates& certs) {
  CrlSources sources;
  CrlSigner issuing{&hsm.issuing(), certs.issuing.get()};
  sources.lists.push_back({CrlList::kIssuing, issuing});
  if (!config.offline_crl_url.empty()) sources.lists.push_back({CrlList::kOffline, issuing});
  IMPRINT_ASSIGN_OR_RETURN(sources.root, RootSignerInToken(hsm, certs));
  if (sources.root) {
    sources.lists.push_back({CrlList::kRoot, CrlSigner{sources.root.get(), certs.root.get()}});
  }
  return sources;
}

CrlKeeper::CrlKeeper(const CaConfig& config, sql::ConnectionPool& reads,
                     std::vector<CrlSource> sources, WriteFn write)
    : config_(config), reads_(reads), sources_(std::move(sources)), write_(std::move(write)) {
  // The first check before serving: a CA answers GET /crl/<list>.crl from its start, and
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

std::shared_ptr<const CrlInfo> CrlKeeper::current(CrlList list) const {
  std::lock_guard lock(mu_);
  return current_[static_cast<size_t>(list)];
}

bool CrlKeeper::publishes(CrlList list) const {
  for (const CrlSource& source : sources_) {
    if (source.list == list) return true;
  }
  return false;
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
  for (const CrlSource& source : sources_) KeepOne(source);
}

void CrlKeeper::KeepOne(const CrlSource& source) {
  auto have = current(source.list);
  auto kept = [&]() -> Result<CrlInfo> {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(
        CrlInfo crl, PublishCrl(config_, *db, source.list, source.signer, write_, "ca", false));
    // Current already, but newer than this node's files (another node or `crl issue`).
    if (crl.der.empty() && (have == nullptr || have->number != crl.number)) {
      return CurrentCrl(*db, source.list);
    }
    return crl;
  }();
  Status written = kept ? Status() : Status(std::unexpected(kept.error()));
  if (kept && (have == nullptr || have->number != kept->number)) {
    written = WriteCrlFiles(config_, source.list, *kept);
    if (written) {
      LogInfo("CRL " + std::to_string(kept->number) + " with " + std::to_string(kept->entries) +
              " entries written to " + CrlPath(config_, source.list));
      std::lock_guard lock(mu_);
      current_[static_cast<size_t>(source.list)] =
          std::make_shared<const CrlInfo>(std::move(*kept));
    }
  }
  std::string error = written ? "" : written.error().message();
  std::string& last = last_error_[static_cast<size_t>(source.list)];
  if (error != last && !error.empty()) {
    LogWarning(std::string(CrlListName(source.list)) + " CRL not kept current: " + error);
  }
  last = error;
}

}  // namespace imprint::ca
