#include "common/pkcs11/session_pool.h"

#include "common/pkcs11/rv.h"

namespace imprint::p11 {

SessionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), handle_(other.handle_), broken_(other.broken_) {
  other.pool_ = nullptr;
}

SessionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Return(handle_, broken_);
}

Status SessionPool::Lease::Check(std::string_view call, CK_RV rv) {
  if (rv == CKR_OK) return {};
  if (IsSessionFault(rv)) broken_ = true;
  return std::unexpected(pool_->module_->CallError(call, rv));
}

Result<std::unique_ptr<SessionPool>> SessionPool::Open(std::shared_ptr<Module> module,
                                                       CK_SLOT_ID slot, Secret pin, size_t size) {
  if (size == 0) return Fail(Code::kInvalidArgument, "session pool size must be at least 1");
  std::unique_ptr<SessionPool> pool(new SessionPool(std::move(module), slot, std::move(pin), size));
  IMPRINT_ASSIGN_OR_RETURN(CK_SESSION_HANDLE first, pool->OpenSession());
  std::lock_guard lock(pool->mu_);
  pool->idle_.push_back(first);
  pool->open_ = 1;
  return pool;
}

SessionPool::~SessionPool() {
  // Every Lease must have ended: a lease outliving its pool is a bug.
  std::lock_guard lock(mu_);
  for (CK_SESSION_HANDLE h : idle_) module_->api()->C_CloseSession(h);
}

Result<CK_SESSION_HANDLE> SessionPool::OpenSession() {
  CK_FUNCTION_LIST* api = module_->api();
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  IMPRINT_RETURN_IF_ERROR(module_->Check(
      "C_OpenSession",
      api->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &handle)));
  // Login state belongs to the application, not the session (PKCS#11 3.0 5.6): log in only
  // when this session does not already see a logged-in user, e.g. after all sessions closed.
  CK_SESSION_INFO info{};
  CK_RV rv = api->C_GetSessionInfo(handle, &info);
  bool logged_in =
      rv == CKR_OK && (info.state == CKS_RW_USER_FUNCTIONS || info.state == CKS_RO_USER_FUNCTIONS);
  if (!logged_in) {
    auto pin = pin_.Reveal();
    rv = api->C_Login(handle, CKU_USER,
                      reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin.data())),
                      static_cast<CK_ULONG>(pin.size()));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
      api->C_CloseSession(handle);
      return std::unexpected(module_->CallError("C_Login", rv));
    }
  }
  return handle;
}

Result<SessionPool::Lease> SessionPool::Acquire() {
  std::unique_lock lock(mu_);
  available_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
  if (!idle_.empty()) {
    CK_SESSION_HANDLE h = idle_.back();
    idle_.pop_back();
    return Lease(this, h);
  }
  ++open_;  // reserve the place, then open outside the lock
  lock.unlock();
  auto opened = OpenSession();
  if (!opened) {
    lock.lock();
    --open_;
    available_.notify_one();
    Error e = opened.error();
    // A wrong PIN stays a wrong PIN; anything else means the token is not usable right now.
    if (e.code() != Code::kPermissionDenied) e = Error(Code::kUnavailable, e.message());
    return std::unexpected(e);
  }
  return Lease(this, *opened);
}

void SessionPool::Return(CK_SESSION_HANDLE handle, bool broken) {
  if (broken) module_->api()->C_CloseSession(handle);  // may fail: the session is gone anyway
  std::lock_guard lock(mu_);
  if (broken) {
    --open_;
    ++reopened_;
  } else {
    idle_.push_back(handle);
  }
  available_.notify_one();
}

size_t SessionPool::reopened() const {
  std::lock_guard lock(mu_);
  return reopened_;
}

}  // namespace imprint::p11
