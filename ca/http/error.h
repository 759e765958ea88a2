#pragma once
// What an HTTP client of the CA's listeners (console, revocation) is told when a call fails: the
// one map from an Error to an HTTP status and the text the client sees, the HTTP twin of
// rpc::ToGrpcStatus.
//
// Codes a client can act on (bad input, not found, a conflict, refused, used up) keep their
// message: those are the CA's own words. Every other code (INTERNAL, UNKNOWN and DATA_LOSS, which
// StaysInLogs names, and a store or token that is unavailable) may carry SQL, libpq or PKCS#11
// text, so the client gets a fixed text with a request id and the log gets the detail under the
// same id. Thread-safe.

#include <string>

#include "common/error.h"

namespace imprint::ca {

struct HttpError {
  int status = 500;
  std::string text;        // for the client: the CA's own message, or a fixed text with an id
  std::string request_id;  // set when the detail went to the log instead
};

// `what` names the request in the log line ("GET /api/v1/orders").
HttpError ToHttpError(const Error& error, std::string_view what);

}  // namespace imprint::ca
