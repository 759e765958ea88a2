#pragma once
// Durable file writes: temp file created with its final mode (no window where a secret is
// readable), fsync, rename over the target, fsync the directory. A crash leaves the old
// content or the new, never a mix.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace imprint {

Status WriteFileAtomic(const std::string& path, std::string_view content, int mode);

// Replaces `path` by writing a temp file with `mode` and renaming it, without any fsync: for
// files that are only a copy of state kept durably elsewhere and rewritten from it after a
// crash. Readers see the old content or the new, never a mix, unless power is lost.
Status ReplaceFile(const std::string& path, std::string_view content, int mode);

struct FileContent {
  std::string path;
  std::string_view content;  // not owned: must outlive the call
  int mode;
};
// Several files in one directory made durable with one directory fsync: each is written to
// its temp name and fsync'd, then all are renamed, then `dir` is fsync'd. A crash can leave
// any subset renamed, so callers that need all-or-nothing write a commit point afterwards
// (as DeviceStore does with state.json). Temp files are removed on failure. `step`, when set,
// is called after the temps are durable and after each rename (crash tests stop there).
Status WriteFilesDurably(const std::string& dir, const std::vector<FileContent>& files,
                         const std::function<void(std::string_view)>& step = {});

// fsyncs a directory so renames and unlinks in it are durable.
Status SyncDirectory(const std::string& dir);

// Reads a whole file of at most `max_bytes`; NOT_FOUND when missing.
Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes = 1 << 20);

// Creates `dir` (and parents) and sets it to `mode`.
Status MakePrivateDirectory(const std::string& dir, int mode = 0700);

}  // namespace imprint
