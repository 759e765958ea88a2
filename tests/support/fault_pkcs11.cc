// A fault-injecting PKCS#11 module for tests: it loads the real module named by
// IMPRINT_FAULT_REAL_MODULE (SoftHSM by default), passes every call through, and while the file
// named by IMPRINT_FAULT_SCHEDULE holds a fault, injects it into C_SignInit, C_Sign,
// C_GenerateRandom and C_OpenSession. The file holds one line:
//   none | device_error | session_closed | session_invalid | token_not_present | slow MS
// optionally followed by "every N" (fault one call in N; default every call). Tests rewrite the
// file to start and stop faults while the CA runs.

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

namespace {

struct Schedule {
  std::string kind = "none";
  long slow_ms = 0;
  long every = 1;
};

CK_FUNCTION_LIST real;      // the wrapped module's functions
CK_FUNCTION_LIST wrapped;   // what we hand out
std::atomic<unsigned long> calls{0};
std::mutex schedule_mu;
Schedule cached;
struct timespec cached_mtime {};

Schedule Current() {
  const char* path = std::getenv("IMPRINT_FAULT_SCHEDULE");
  if (path == nullptr) return {};
  struct stat st {};
  std::lock_guard lock(schedule_mu);
  if (::stat(path, &st) != 0) return {};
  if (st.st_mtim.tv_sec == cached_mtime.tv_sec && st.st_mtim.tv_nsec == cached_mtime.tv_nsec) {
    return cached;
  }
  Schedule s;
  std::ifstream in(path);
  std::string word;
  in >> s.kind;
  if (s.kind == "slow") in >> s.slow_ms;
  while (in >> word) {
    if (word == "every") in >> s.every;
  }
  if (s.every < 1) s.every = 1;
  cached = s;
  cached_mtime = st.st_mtim;
  return s;
}

// The CK_RV to inject for this call (CKR_OK: none). `session` lets session faults really close
// the session, as a device reset would.
CK_RV Inject(CK_SESSION_HANDLE session, bool has_session) {
  Schedule s = Current();
  if (s.kind == "none") return CKR_OK;
  if (calls.fetch_add(1) % static_cast<unsigned long>(s.every) != 0) return CKR_OK;
  if (s.kind == "slow") {
    std::this_thread::sleep_for(std::chrono::milliseconds(s.slow_ms));
    return CKR_OK;
  }
  if (s.kind == "device_error") return CKR_DEVICE_ERROR;
  if (s.kind == "token_not_present") return CKR_TOKEN_NOT_PRESENT;
  if (s.kind == "session_closed" || s.kind == "session_invalid") {
    if (has_session) real.C_CloseSession(session);
    return s.kind == "session_closed" ? CKR_SESSION_CLOSED : CKR_SESSION_HANDLE_INVALID;
  }
  return CKR_OK;
}

CK_RV FaultSignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) {
  if (CK_RV rv = Inject(h, true); rv != CKR_OK) return rv;
  return real.C_SignInit(h, m, k);
}

CK_RV FaultSign(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR s, CK_ULONG_PTR sn) {
  return real.C_Sign(h, d, n, s, sn);
}

CK_RV FaultRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG n) {
  if (CK_RV rv = Inject(h, true); rv != CKR_OK) return rv;
  return real.C_GenerateRandom(h, out, n);
}

CK_RV FaultOpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void* app, CK_NOTIFY notify,
                       CK_SESSION_HANDLE_PTR out) {
  Schedule s = Current();
  if ((s.kind == "device_error" || s.kind == "token_not_present") &&
      calls.fetch_add(1) % static_cast<unsigned long>(s.every) == 0) {
    return s.kind == "device_error" ? CKR_DEVICE_ERROR : CKR_TOKEN_NOT_PRESENT;
  }
  return real.C_OpenSession(slot, flags, app, notify, out);
}

}  // namespace

extern "C" CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  static std::once_flag once;
  static CK_RV load_rv = CKR_OK;
  std::call_once(once, [] {
    const char* path = std::getenv("IMPRINT_FAULT_REAL_MODULE");
    void* handle = ::dlopen(path != nullptr ? path : "/usr/lib/softhsm/libsofthsm2.so",
                            RTLD_NOW | RTLD_LOCAL);
    auto get = handle ? reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"))
                      : nullptr;
    CK_FUNCTION_LIST_PTR inner = nullptr;
    if (get == nullptr || get(&inner) != CKR_OK) {
      load_rv = CKR_GENERAL_ERROR;
      return;
    }
    real = *inner;
    wrapped = *inner;
    wrapped.C_SignInit = FaultSignInit;
    wrapped.C_Sign = FaultSign;
    wrapped.C_GenerateRandom = FaultRandom;
    wrapped.C_OpenSession = FaultOpenSession;
  });
  if (load_rv != CKR_OK) return load_rv;
  *list = &wrapped;
  return CKR_OK;
}
