// A fault-injecting PKCS#11 module for tests: it loads the real module named by
// IMPRINT_FAULT_REAL_MODULE (SoftHSM by default), passes every call through, and while the file
// named by IMPRINT_FAULT_SCHEDULE holds a fault, injects it into C_SignInit, C_Sign,
// C_GenerateRandom and C_OpenSession. The file holds one line:
//   none | device_error | general_error | session_closed | session_invalid | token_not_present |
//   slow MS | constant_random (C_GenerateRandom succeeds but returns 0x5a bytes: every serial
//   the same)
// optionally followed by "every N" (fault one call in N; default every call) and "only CALLS"
// (a comma-separated list of the calls to fault, e.g. "only C_SignInit,C_DestroyObject"; with it,
// C_DestroyObject and C_GenerateKeyPair can fault too). Tests rewrite the file to start and stop
// faults while the CA runs.
//
// IMPRINT_FAULT_CALL_LOG=FILE appends one line "C_Login" to FILE for every C_Login, so a test
// can count how often a command logs in to the token.
//
// IMPRINT_FAULT_HIDE_EC=1 plays a token without elliptic curves (opencryptoki's soft token):
// the EC mechanisms are missing from C_GetMechanismList, and C_GetMechanismInfo and
// C_GenerateKeyPair refuse them with CKR_MECHANISM_INVALID.

#include <dlfcn.h>
#include <fcntl.h>
#include <p11-kit/pkcs11.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Schedule {
  std::string kind = "none";
  long slow_ms = 0;
  long every = 1;
  std::string only;  // ",C_Sign,C_SignInit,": the calls to fault; empty: the default four
};

CK_FUNCTION_LIST real;     // the wrapped module's functions
CK_FUNCTION_LIST wrapped;  // what we hand out
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
    if (word == "only") {
      in >> s.only;
      s.only = "," + s.only + ",";
    }
  }
  if (s.every < 1) s.every = 1;
  cached = s;
  cached_mtime = st.st_mtim;
  return s;
}

// The CK_RV to inject for this call (CKR_OK: none). `session` lets session faults really close
// the session, as a device reset would.
CK_RV Inject(const char* call, CK_SESSION_HANDLE session, bool has_session) {
  Schedule s = Current();
  if (s.kind == "none") return CKR_OK;
  bool listed = s.only.find(std::string(",") + call + ",") != std::string::npos;
  bool opt_in =
      std::string_view(call) == "C_DestroyObject" || std::string_view(call) == "C_GenerateKeyPair";
  if (s.only.empty() ? opt_in : !listed) return CKR_OK;
  if (calls.fetch_add(1) % static_cast<unsigned long>(s.every) != 0) return CKR_OK;
  if (s.kind == "slow") {
    std::this_thread::sleep_for(std::chrono::milliseconds(s.slow_ms));
    return CKR_OK;
  }
  if (s.kind == "device_error") return CKR_DEVICE_ERROR;
  if (s.kind == "general_error") return CKR_GENERAL_ERROR;
  if (s.kind == "token_not_present") return CKR_TOKEN_NOT_PRESENT;
  if (s.kind == "session_closed" || s.kind == "session_invalid") {
    if (has_session) real.C_CloseSession(session);
    return s.kind == "session_closed" ? CKR_SESSION_CLOSED : CKR_SESSION_HANDLE_INVALID;
  }
  return CKR_OK;
}

CK_RV FaultSignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) {
  if (CK_RV rv = Inject("C_SignInit", h, true); rv != CKR_OK) return rv;
  return real.C_SignInit(h, m, k);
}

CK_RV FaultSign(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR s, CK_ULONG_PTR sn) {
  return real.C_Sign(h, d, n, s, sn);
}

CK_RV FaultRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG n) {
  if (Current().kind == "constant_random") {
    CK_RV rv = real.C_GenerateRandom(h, out, n);
    if (rv == CKR_OK) std::fill(out, out + n, 0x5a);
    return rv;
  }
  if (CK_RV rv = Inject("C_GenerateRandom", h, true); rv != CKR_OK) return rv;
  return real.C_GenerateRandom(h, out, n);
}

CK_RV LoggedLogin(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len) {
  if (const char* path = std::getenv("IMPRINT_FAULT_CALL_LOG")) {
    // O_APPEND: each line lands whole even when several processes log to one file.
    int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      (void)!::write(fd, "C_Login\n", 8);
      ::close(fd);
    }
  }
  return real.C_Login(h, user, pin, pin_len);
}

CK_RV FaultDestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE object) {
  if (CK_RV rv = Inject("C_DestroyObject", h, true); rv != CKR_OK) return rv;
  return real.C_DestroyObject(h, object);
}

bool HideEc() {
  const char* hide = std::getenv("IMPRINT_FAULT_HIDE_EC");
  return hide != nullptr && std::string_view(hide) == "1";
}

bool IsEc(CK_MECHANISM_TYPE m) {
  return m == CKM_EC_KEY_PAIR_GEN || m == CKM_ECDSA || m == CKM_ECDSA_SHA1 ||
         m == CKM_ECDSA_SHA224 || m == CKM_ECDSA_SHA256 || m == CKM_ECDSA_SHA384 ||
         m == CKM_ECDSA_SHA512 || m == CKM_ECDH1_DERIVE;
}

CK_RV FaultMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count) {
  if (!HideEc()) return real.C_GetMechanismList(slot, list, count);
  CK_ULONG all = 0;
  if (CK_RV rv = real.C_GetMechanismList(slot, nullptr, &all); rv != CKR_OK) return rv;
  std::vector<CK_MECHANISM_TYPE> mechanisms(all);
  if (CK_RV rv = real.C_GetMechanismList(slot, mechanisms.data(), &all); rv != CKR_OK) return rv;
  mechanisms.resize(all);
  std::erase_if(mechanisms, IsEc);
  if (list != nullptr) {
    if (*count < mechanisms.size()) {
      *count = mechanisms.size();
      return CKR_BUFFER_TOO_SMALL;
    }
    std::copy(mechanisms.begin(), mechanisms.end(), list);
  }
  *count = mechanisms.size();
  return CKR_OK;
}

CK_RV FaultMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE m, CK_MECHANISM_INFO_PTR info) {
  if (HideEc() && IsEc(m)) return CKR_MECHANISM_INVALID;
  return real.C_GetMechanismInfo(slot, m, info);
}

CK_RV FaultGenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pub,
                           CK_ULONG pub_count, CK_ATTRIBUTE_PTR priv, CK_ULONG priv_count,
                           CK_OBJECT_HANDLE_PTR pub_out, CK_OBJECT_HANDLE_PTR priv_out) {
  if (HideEc() && m != nullptr && IsEc(m->mechanism)) return CKR_MECHANISM_INVALID;
  if (CK_RV rv = Inject("C_GenerateKeyPair", h, true); rv != CKR_OK) return rv;
  return real.C_GenerateKeyPair(h, m, pub, pub_count, priv, priv_count, pub_out, priv_out);
}

CK_RV FaultOpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void* app, CK_NOTIFY notify,
                       CK_SESSION_HANDLE_PTR out) {
  Schedule s = Current();
  bool listed = s.only.empty() || s.only.find(",C_OpenSession,") != std::string::npos;
  if (listed && (s.kind == "device_error" || s.kind == "token_not_present") &&
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
    void* handle =
        ::dlopen(path != nullptr ? path : "/usr/lib/softhsm/libsofthsm2.so", RTLD_NOW | RTLD_LOCAL);
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
    wrapped.C_DestroyObject = FaultDestroyObject;
    wrapped.C_Login = LoggedLogin;
    wrapped.C_GetMechanismList = FaultMechanismList;
    wrapped.C_GetMechanismInfo = FaultMechanismInfo;
    wrapped.C_GenerateKeyPair = FaultGenerateKeyPair;
  });
  if (load_rv != CKR_OK) return load_rv;
  *list = &wrapped;
  return CKR_OK;
}
