#pragma once
// Durable file writes: temp file created with its final mode (no window where a secret is
// readable), fsync, rename over the target, fsync the directory. A crash leaves the old
// content or the new, never a mix.

#include <string>

#include "common/error.h"

namespace imprint {

Status WriteFileAtomic(const std::string& path, const std::string& content, int mode);

// fsyncs a directory so renames and unlinks in it are durable.
Status SyncDirectory(const std::string& dir);

// Reads a whole file of at most `max_bytes`; NOT_FOUND when missing.
Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes = 1 << 20);

// Creates `dir` (and parents) and sets it to `mode`.
Status MakePrivateDirectory(const std::string& dir, int mode = 0700);

}  // namespace imprint
