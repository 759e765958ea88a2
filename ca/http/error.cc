#include "ca/http/error.h"

#include <openssl/rand.h>

#include <array>

#include "common/bytes.h"
#include "common/log.h"

namespace imprint::ca {
namespace {

// The status for a code whose message the client may read; 0 when the message stays in the log.
int ClientStatus(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
    case Code::kOutOfRange:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
    case Code::kFailedPrecondition:
    case Code::kAborted:
      return 409;
    case Code::kResourceExhausted:
      return 429;
    default:
      return 0;
  }
}

// Eight random bytes in hex: enough to find one request's line among a day of log lines.
std::string NewRequestId() {
  std::array<uint8_t, 8> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) return "0000000000000000";
  return HexEncode(ByteView(raw.data(), raw.size()));
}

}  // namespace

HttpError ToHttpError(const Error& error, std::string_view what) {
  if (int status = ClientStatus(error.code()); status != 0) return {status, error.message(), ""};
  HttpError out;
  out.request_id = NewRequestId();
  bool internal = StaysInLogs(error.code());
  out.status = internal ? 500 : 503;
  out.text = std::string(internal ? "internal error" : "temporarily unavailable; try again") +
             " (request " + out.request_id + ")";
  LogError("http request " + out.request_id + " (" + std::string(what) +
           ") failed: " + error.ToString());
  return out;
}

}  // namespace imprint::ca
