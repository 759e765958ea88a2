#pragma once
// Error, Result<T> and Status: how every fallible imprint call reports failure.
// Codes are gRPC's canonical set, so the RPC boundary (common/rpc) is a cast.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace imprint {

enum class Code : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Canonical upper-case name, e.g. "INVALID_ARGUMENT".
std::string_view CodeName(Code code);

// Codes whose messages stay in this process's log: sent to a peer, they read "internal error"
// (rpc::ToGrpcStatus). INTERNAL, UNKNOWN and DATA_LOSS.
inline bool StaysInLogs(Code code) {
  return code == Code::kInternal || code == Code::kUnknown || code == Code::kDataLoss;
}

// An error: a canonical code and a short message meant for the caller. Messages never
// contain secrets; INTERNAL messages stay in logs and leave a process as "internal error".
class Error {
 public:
  Error(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "CODE: message", for logs and CLI output.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Error WithContext(std::string_view context) const;

 private:
  Code code_;
  std::string message_;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

inline std::unexpected<Error> Fail(Code code, std::string message) {
  return std::unexpected<Error>(Error(code, std::move(message)));
}

}  // namespace imprint

// Evaluates a Status/Result expression and returns its error from the enclosing function.
#define IMPRINT_RETURN_IF_ERROR(expr)                                \
  do {                                                               \
    if (auto imprint_status_ = (expr); !imprint_status_.has_value()) \
      return std::unexpected(std::move(imprint_status_).error());    \
  } while (false)

#define IMPRINT_CONCAT_INNER_(a, b) a##b
#define IMPRINT_CONCAT_(a, b) IMPRINT_CONCAT_INNER_(a, b)

// IMPRINT_ASSIGN_OR_RETURN(auto x, MakeX()); binds the value or returns the error.
#define IMPRINT_ASSIGN_OR_RETURN(lhs, expr) \
  IMPRINT_ASSIGN_OR_RETURN_IMPL_(IMPRINT_CONCAT_(imprint_result_, __LINE__), lhs, expr)
#define IMPRINT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)                  \
  auto tmp = (expr);                                                    \
  if (!tmp.has_value()) return std::unexpected(std::move(tmp).error()); \
  lhs = std::move(tmp).value()
