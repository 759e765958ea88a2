#include "common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace imprint {

Result<FileLock> FileLock::Acquire(const std::string& path, Mode mode) {
  bool exclusive = mode == Mode::kExclusive;
  int fd = exclusive ? ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)
                     : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    Code code = errno == ENOENT ? Code::kNotFound : Code::kUnavailable;
    return Fail(code, "open " + path + ": " + std::strerror(errno));
  }
  FileLock lock(fd);
  int rc;
  do {
    rc = ::flock(fd, exclusive ? LOCK_EX : LOCK_SH);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return Fail(Code::kUnavailable, "flock " + path + ": " + std::strerror(errno));
  return lock;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the lock
}

}  // namespace imprint
