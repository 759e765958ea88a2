#pragma once
// FileLock: an advisory lock (flock(2)) on a file, held until the FileLock ends, shared between
// processes on one machine. The kernel releases it when the process dies, so a crash never
// leaves it held.

#include <string>

#include "common/error.h"

namespace imprint {

class FileLock {
 public:
  enum class Mode { kShared, kExclusive };

  // Blocks until the lock is held. An exclusive lock creates `path` (mode 0600) if missing; a
  // shared one never creates it and returns NOT_FOUND instead (read-only callers never write).
  static Result<FileLock> Acquire(const std::string& path, Mode mode);

  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace imprint
