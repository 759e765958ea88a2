#include "common/process_guard.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace imprint {

Status ForbidCoreDumps() {
  rlimit none{0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) {
    return Fail(Code::kUnavailable, std::string("setrlimit(RLIMIT_CORE): ") + std::strerror(errno));
  }
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Fail(Code::kUnavailable, std::string("prctl(PR_SET_DUMPABLE): ") + std::strerror(errno));
  }
  return {};
}

Result<uint64_t> RaiseOpenFileLimit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) {
    return Fail(Code::kUnavailable,
                std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &files) != 0) {
      return Fail(Code::kUnavailable,
                  std::string("setrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
    }
  }
  return static_cast<uint64_t>(files.rlim_cur);
}

}  // namespace imprint
