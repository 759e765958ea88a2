#pragma once
// The console's pages and JSON API (docs/console.md): what ConsoleServer serves besides
// /metrics. Authentication is a session cookie from POST /api/v1/session; every request that
// changes something also needs the session's CSRF token in X-CSRF-Token; operator actions
// need the operator role. Each refusal has its own status (400 malformed, 401 no session,
// 403 role, CSRF or a password still to change, 404 unknown, 409 not possible now, 429 too
// many failed logins) and a JSON body {"error": "..."} in the CA's own words.

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "ca/audit/writer.h"
#include "ca/auth_failures.h"
#include "ca/config.h"
#include "ca/console/metrics.h"
#include "ca/console/password.h"
#include "ca/console/sessions.h"
#include "ca/console/users.h"
#include "ca/http/server.h"
#include "common/sql/connection_pool.h"

namespace imprint::ca {

struct ConsoleContext {
  const CaConfig* config = nullptr;
  sql::ConnectionPool* reads = nullptr;
  std::function<Status(const WriteOp&)> write;  // the serving CA's writer
  CaMetrics* metrics = nullptr;
  AuthFailures* auth_failures = nullptr;
  // A viewer's refused operator actions, per user: the first in a minute audited at once,
  // the rest of the minute as one `console.denied` record (issue 26 finding 13).
  AuthFailures* denials = nullptr;
  SessionStore* sessions = nullptr;
  LoginLimiter* limiter = nullptr;
  // The newest full audit verification: {"time_ms", "ok", "records", "error"}.
  std::function<nlohmann::json()> last_verification;
};

void AddConsoleRoutes(http::Server& server, ConsoleContext& ctx);

}  // namespace imprint::ca
