#include "common/secret.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace imprint {
namespace {

constexpr size_t kMaxPinFileBytes = 4096;

}  // namespace

Secret::Secret(std::string&& value) {
  value_.assign(value.data(), value.size());
  value.resize(value.capacity());
  OPENSSL_cleanse(value.data(), value.size());
  value.clear();
}

Secret Secret::CopyOf(std::string_view value) {
  Secret s;
  s.value_.assign(value.data(), value.size());
  return s;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Wipe();
    value_ = std::move(other.value_);
    other.Wipe();
  }
  return *this;
}

void Secret::Wipe() noexcept {
  // Wipe the whole capacity: a shorter value may have been stored in a longer buffer.
  if (value_.capacity() > 0) {
    value_.resize(value_.capacity());
    OPENSSL_cleanse(value_.data(), value_.size());
  }
  value_.clear();
}

Result<Secret> ReadPinFile(const std::string& path) {
  // O_NOFOLLOW + fstat on the opened descriptor: the mode we check is the file we read.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return Fail(errno == ENOENT ? Code::kNotFound : Code::kPermissionDenied,
                "cannot open PIN file " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Fail(Code::kInvalidArgument, "PIN file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return Fail(Code::kPermissionDenied,
                "PIN file " + path + " is accessible by group or others; use mode 0600 or 0400");
  }
  std::string buffer(kMaxPinFileBytes + 1, '\0');
  ssize_t n = ::read(fd, buffer.data(), buffer.size());
  ::close(fd);
  if (n < 0 || static_cast<size_t>(n) > kMaxPinFileBytes) {
    OPENSSL_cleanse(buffer.data(), buffer.size());
    return Fail(Code::kInvalidArgument, "cannot read PIN file " + path);
  }
  size_t len = static_cast<size_t>(n);
  if (len > 0 && buffer[len - 1] == '\n') --len;
  if (len > 0 && buffer[len - 1] == '\r') --len;
  std::string pin(buffer.data(), len);
  OPENSSL_cleanse(buffer.data(), buffer.size());
  if (pin.empty()) return Fail(Code::kInvalidArgument, "PIN file " + path + " is empty");
  return Secret(std::move(pin));
}

Result<Secret> ReadPinEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    return Fail(Code::kNotFound, "environment variable " + name + " is not set");
  }
  return Secret::CopyOf(value);
}

}  // namespace imprint
