#pragma once
// TempDir: a fresh private directory under $TMPDIR (or /tmp), removed with its contents.

#include <filesystem>
#include <string>

namespace imprint::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Writes `content` to `path` with `mode` (set before any byte is written).
void WriteFile(const std::filesystem::path& path, const std::string& content, int mode = 0600);
std::string ReadFile(const std::filesystem::path& path);

// Runs a shell command; returns its exit status and fills `output` with stdout+stderr.
int RunCommand(const std::string& command, std::string* output = nullptr);

}  // namespace imprint::testing
