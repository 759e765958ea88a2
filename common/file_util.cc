#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace imprint {

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Fail(Code::kUnavailable, "cannot open directory " + dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Fail(Code::kUnavailable, "fsync " + dir + ": " + std::strerror(errno));
  return {};
}

namespace {

// A temporary name beside `path` that no other writer, in this process or another, uses at the
// same time: two writers of one file (a serving CA and `crl issue` both publishing the CRL)
// shared "path.tmp", and one removed or renamed the other's, failing its write. Ends in ".tmp",
// which the device store's start-up sweep removes.
std::string TempName(const std::string& path) {
  static std::atomic<uint64_t> next{0};
  return path + "." + std::to_string(::getpid()) + "-" + std::to_string(next++) + ".tmp";
}

// Writes `content` to `tmp`, created with `mode`, and fsyncs it when `sync` is set.
Status WriteTemp(const std::string& path, const std::string& tmp, std::string_view content,
                 int mode, bool sync = true) {
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return Fail(Code::kUnavailable, "cannot create " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, static_cast<mode_t>(mode));  // the umask must not widen or narrow it
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = done == content.size() && (!sync || ::fsync(fd) == 0);
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return Fail(Code::kUnavailable, "cannot write " + path);
  }
  return {};
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view content, int mode) {
  return WriteFilesDurably(std::filesystem::path(path).parent_path().string(),
                           {{path, content, mode}});
}

Status ReplaceFile(const std::string& path, std::string_view content, int mode) {
  std::string tmp = TempName(path);
  IMPRINT_RETURN_IF_ERROR(WriteTemp(path, tmp, content, mode, false));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Fail(Code::kUnavailable, "cannot write " + path);
  }
  return {};
}

Status WriteFilesDurably(const std::string& dir, const std::vector<FileContent>& files,
                         const std::function<void(std::string_view)>& step) {
  std::vector<std::string> temps;
  for (const auto& f : files) temps.push_back(TempName(f.path));
  auto remove_temps = [&] {
    for (const auto& tmp : temps) ::unlink(tmp.c_str());
  };
  for (size_t i = 0; i < files.size(); ++i) {
    if (auto s = WriteTemp(files[i].path, temps[i], files[i].content, files[i].mode); !s) {
      remove_temps();
      return s;
    }
  }
  if (step) step("temps-written");
  for (size_t i = 0; i < files.size(); ++i) {
    if (::rename(temps[i].c_str(), files[i].path.c_str()) != 0) {
      remove_temps();
      return Fail(Code::kUnavailable, "cannot write " + files[i].path);
    }
    if (step) step("renamed");
  }
  return SyncDirectory(dir);
}

Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Fail(errno == ENOENT ? Code::kNotFound : Code::kUnavailable, "cannot read " + path);
  }
  std::string out;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      ::close(fd);
      return Fail(Code::kUnavailable, "cannot read " + path);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return Fail(Code::kInvalidArgument, path + " is too large");
    }
  }
  ::close(fd);
  return out;
}

Status MakePrivateDirectory(const std::string& dir, int mode) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || ::chmod(dir.c_str(), static_cast<mode_t>(mode)) != 0) {
    return Fail(Code::kUnavailable, "cannot create directory " + dir);
  }
  return {};
}

}  // namespace imprint
