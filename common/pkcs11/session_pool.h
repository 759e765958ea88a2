#pragma once
// SessionPool: logs in once and lends PKCS#11 sessions, one caller at a time, through a
// move-only Lease. A session whose call failed with a session fault (IsSessionFault: handle
// invalid, session closed, device error or removed, token gone, user not logged in) is closed
// when its lease ends and a fresh one is opened, and the token logged in again, on a later
// Acquire: the pool survives an HSM hiccup without a restart.
//
// Thread safety: the pool is thread-safe; a Lease belongs to one thread at a time
// (PKCS#11 3.0 5.1.7: a session must not be used concurrently).

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "common/error.h"
#include "common/pkcs11/module.h"
#include "common/secret.h"

namespace imprint::p11 {

class SessionPool {
 public:
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    CK_SESSION_HANDLE handle() const { return handle_; }
    CK_FUNCTION_LIST* api() const { return pool_->module_->api(); }

    // Records the result of a call made on this session and returns it as a Status naming
    // `call`. After a session fault the session is discarded instead of returned.
    Status Check(std::string_view call, CK_RV rv);
    bool broken() const { return broken_; }

   private:
    friend class SessionPool;
    Lease(SessionPool* pool, CK_SESSION_HANDLE handle) : pool_(pool), handle_(handle) {}
    SessionPool* pool_;
    CK_SESSION_HANDLE handle_;
    bool broken_ = false;
  };

  // Opens one session on `slot` and logs in with `pin`, failing fast on a wrong PIN
  // (PERMISSION_DENIED) or a missing token; later sessions open on demand up to `size`.
  // Sessions are read-write so keys can be generated through the same pool.
  static Result<std::unique_ptr<SessionPool>> Open(std::shared_ptr<Module> module, CK_SLOT_ID slot,
                                                   Secret pin, size_t size);
  ~SessionPool();

  // Blocks until a session is free. UNAVAILABLE when a new session cannot be opened or
  // logged in (the token is gone); a later call tries again.
  Result<Lease> Acquire();

  Module& module() const { return *module_; }
  CK_SLOT_ID slot() const { return slot_; }
  size_t size() const { return size_; }
  // Sessions discarded after faults since the pool opened; for tests and metrics.
  size_t reopened() const;

 private:
  SessionPool(std::shared_ptr<Module> module, CK_SLOT_ID slot, Secret pin, size_t size)
      : module_(std::move(module)), slot_(slot), pin_(std::move(pin)), size_(size) {}

  Result<CK_SESSION_HANDLE> OpenSession();
  void Return(CK_SESSION_HANDLE handle, bool broken);

  std::shared_ptr<Module> module_;
  CK_SLOT_ID slot_;
  Secret pin_;
  size_t size_;

  mutable std::mutex mu_;
  std::condition_variable available_;
  std::vector<CK_SESSION_HANDLE> idle_;  // guarded by mu_
  size_t open_ = 0;                      // sessions idle or leased; guarded by mu_
  size_t reopened_ = 0;                  // guarded by mu_
};

}  // namespace imprint::p11
