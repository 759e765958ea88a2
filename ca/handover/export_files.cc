#include "ca/handover/export_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/bytes.h"

namespace imprint::ca {
namespace {

std::unexpected<Error> IoError(const std::string& what, const std::string& path) {
  return Fail(Code::kUnavailable, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

ExportFile::ExportFile(std::string name, std::string temp_path, std::string final_path, FILE* file)
    : name_(std::move(name)),
      temp_(std::move(temp_path)),
      final_(std::move(final_path)),
      file_(file),
      sha_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
  if (sha_ && EVP_DigestInit_ex(sha_.get(), EVP_sha256(), nullptr) != 1) sha_.reset();
}

ExportFile::~ExportFile() {
  if (file_) std::fclose(file_);
}

Status ExportFile::Write(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    return IoError("cannot write", temp_);
  }
  if (!sha_ || EVP_DigestUpdate(sha_.get(), text.data(), text.size()) != 1) {
    return Fail(Code::kInternal, "cannot hash " + temp_);
  }
  return {};
}

std::string ExportFile::Sha256Hex() const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> copy(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!sha_ || !copy || EVP_MD_CTX_copy_ex(copy.get(), sha_.get()) != 1 ||
      EVP_DigestFinal_ex(copy.get(), digest, &size) != 1) {
    return {};
  }
  return HexEncode(ByteView(digest, size));
}

Status ExportFile::Close() {
  if (!file_) return {};
  FILE* f = file_;
  file_ = nullptr;
  bool ok = std::fflush(f) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return IoError("cannot write", temp_);
  return {};
}

Result<ExportDir> ExportDir::Prepare(const std::string& path, bool force) {
  namespace fs = std::filesystem;
  ExportDir dir;
  dir.path_ = path;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (!fs::is_directory(path, ec)) {
      return Fail(Code::kFailedPrecondition, "--out " + path + " exists and is not a directory");
    }
    if (!force && !fs::is_empty(path, ec)) {
      return Fail(Code::kFailedPrecondition,
                  "--out " + path + " is not empty; choose a new directory or pass --force");
    }
  } else {
    if (!fs::create_directories(path, ec) || ec) {
      return Fail(Code::kUnavailable, "cannot create " + path + ": " + ec.message());
    }
    dir.created_ = true;
  }
  return dir;
}

ExportDir::~ExportDir() {
  if (committed_ || path_.empty()) return;
  for (auto& f : files_) {
    if (f->file_) std::fclose(f->file_);
    f->file_ = nullptr;
    ::unlink(f->temp_.c_str());
  }
  if (created_) ::rmdir(path_.c_str());
}

Result<ExportFile*> ExportDir::Create(const std::string& name) {
  std::string final_path = path_ + "/" + name;
  std::string temp = path_ + "/." + name + ".tmp-" + std::to_string(::getpid());
  // Whatever waits at the temporary name (a leftover, or a symlink planted by someone who can
  // write to --out) is removed, never followed: the file is made new, here.
  ::unlink(temp.c_str());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create", temp);
  FILE* file = ::fdopen(fd, "w");
  if (!file) {
    ::close(fd);
    return IoError("cannot open", temp);
  }
  std::setvbuf(file, nullptr, _IOFBF, 1 << 20);
  files_.push_back(std::unique_ptr<ExportFile>(new ExportFile(name, temp, final_path, file)));
  return files_.back().get();
}

Result<std::map<std::string, std::string>> ExportDir::Close() {
  std::map<std::string, std::string> hashes;
  for (auto& f : files_) {
    IMPRINT_RETURN_IF_ERROR(f->Close());
    std::string hex = f->Sha256Hex();
    if (hex.empty()) return Fail(Code::kInternal, "cannot hash " + f->temp_);
    hashes[f->name_] = std::move(hex);
  }
  return hashes;
}

Result<std::vector<std::string>> ExportDir::Commit() {
  for (auto& f : files_) IMPRINT_RETURN_IF_ERROR(f->Close());
  int dir_fd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return IoError("cannot open", path_);
  bool synced = ::syncfs(dir_fd) == 0;
  if (!synced) {
    ::close(dir_fd);
    return IoError("cannot flush to disk", path_);
  }
  std::vector<std::string> paths;
  for (auto& f : files_) {
    if (::rename(f->temp_.c_str(), f->final_.c_str()) != 0) {
      ::close(dir_fd);
      return IoError("cannot rename", f->temp_);
    }
    paths.push_back(f->final_);
  }
  committed_ = true;
  ::fsync(dir_fd);
  ::close(dir_fd);
  return paths;
}

std::string CsvField(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace imprint::ca
