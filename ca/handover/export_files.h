#pragma once
// Where an export writes: an output directory that is new or empty (or --force), and files
// written under a temporary name, flushed to disk and renamed into place only when the whole
// export succeeded. A failed export leaves no file of its own behind.

#include <openssl/evp.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace imprint::ca {

class ExportDir;

// A file being written: buffered and hashed as it goes, then made durable and renamed by
// ExportDir::Commit.
class ExportFile {
 public:
  ~ExportFile();
  ExportFile(const ExportFile&) = delete;
  ExportFile& operator=(const ExportFile&) = delete;

  Status Write(std::string_view text);
  // Done writing: flushed and closed now (its descriptor freed), renamed by Commit. An export
  // of many files (Azure's bodies of ten) closes each as it goes; Commit closes the rest.
  Status Close();
  // Lower-case hex SHA-256 of everything written so far.
  std::string Sha256Hex() const;

 private:
  friend class ExportDir;
  ExportFile(std::string name, std::string temp_path, std::string final_path, FILE* file);

  std::string name_, temp_, final_;
  FILE* file_ = nullptr;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha_{nullptr, EVP_MD_CTX_free};
};

class ExportDir {
 public:
  // Creates `path` if missing. FAILED_PRECONDITION if it exists and is not an empty directory
  // (unless `force`: files of the same name are then replaced, others left).
  static Result<ExportDir> Prepare(const std::string& path, bool force);
  ExportDir(ExportDir&&) = default;
  ExportDir& operator=(ExportDir&&) = default;
  ~ExportDir();  // removes the temporary files of an export that did not commit

  // A new file named `name` in the directory (not visible under that name until Commit).
  Result<ExportFile*> Create(const std::string& name);
  // Closes every file and returns each one's SHA-256 (lower-case hex) by name: what an audit
  // record of the export names, before Commit makes the files visible.
  Result<std::map<std::string, std::string>> Close();
  // Closes every file, makes them durable (one syncfs for them all, not an fsync per file:
  // an Azure export of a million devices writes 100,000 files), renames each into place and
  // syncs the directory; returns the final paths.
  Result<std::vector<std::string>> Commit();

  const std::string& path() const { return path_; }

 private:
  ExportDir() = default;
  std::string path_;
  bool created_ = false;  // made by Prepare: removed again when nothing was committed
  bool committed_ = false;
  std::vector<std::unique_ptr<ExportFile>> files_;
};

// One RFC 4180 field: quoted when it holds a comma, a quote, CR or LF (quotes doubled).
std::string CsvField(std::string_view value);

}  // namespace imprint::ca
