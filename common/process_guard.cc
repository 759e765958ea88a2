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

}  // namespace imprint
