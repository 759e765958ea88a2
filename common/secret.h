#pragma once
// Secret: holds a PIN, password, private key PEM or other secret bytes and wipes them on
// destruction. Move-only; has no operator<< and no implicit conversion to string, so it cannot
// slip into a log line by accident. Read it only where it is handed to the HSM or written to
// its sink. It is the one type for secrets from where they are made to where they leave the
// process; the copies it cannot prevent (inside gRPC and protobuf) are listed in
// docs/operations.md ("Secrets in memory").

#include <string>
#include <string_view>

#include "common/error.h"

namespace imprint {

class Secret {
 public:
  Secret() = default;
  // Takes the bytes of `value` and wipes `value` (its whole buffer: moving a short string
  // copies it and leaves the bytes behind).
  explicit Secret(std::string&& value);
  // A copy of bytes the caller does not own (a protobuf field, an environment variable);
  // wiping the source, where possible, is the caller's.
  static Secret CopyOf(std::string_view value);
  ~Secret() { Wipe(); }

  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;

  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }
  // The secret bytes; the view is valid while this Secret lives and is unchanged.
  std::string_view Reveal() const { return value_; }

 private:
  void Wipe() noexcept;
  std::string value_;
};

// Reads a PIN from a file. The file must be a regular file that neither group nor others can
// read or write (mode 0600 or 0400), else PERMISSION_DENIED. One trailing newline is dropped.
// Empty PINs are INVALID_ARGUMENT. The error never contains the PIN.
Result<Secret> ReadPinFile(const std::string& path);

// Reads a PIN from the environment variable `name`; NOT_FOUND when unset or empty.
Result<Secret> ReadPinEnv(const std::string& name);

}  // namespace imprint
