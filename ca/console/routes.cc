#include "ca/console/routes.h"

#include <openssl/crypto.h>

#include "ca/admin.h"
#include "ca/console/assets.h"
#include "ca/console/data.h"
#include "ca/http/error.h"
#include "ca/revocation/revocation.h"
#include "common/identifier.h"
#include "common/log.h"
#include "common/utc_time.h"

namespace imprint::ca {
namespace {

constexpr const char* kCookie = "imprint_session";
constexpr int kDevicePageLimit = 100;

void Json(http::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.SetContent(body.dump(), "application/json");
}

void Error(http::Response& res, int status, const std::string& message) {
  Json(res, status, {{"error", message}});
}

// A failed call: ca/http/error.h decides what the client may read.
void Error(http::Response& res, const imprint::Error& error, const http::Request& req) {
  HttpError http = ToHttpError(error, req.method + " " + req.path);
  Error(res, http.status, http.text);
}

std::string SessionCookie(const http::Request& req) {
  std::string header = req.Header("Cookie");
  std::string key = std::string(kCookie) + "=";
  for (size_t at = 0; at < header.size();) {
    while (at < header.size() && (header[at] == ' ' || header[at] == ';')) ++at;
    size_t end = header.find(';', at);
    std::string_view part(header.data() + at,
                          (end == std::string::npos ? header.size() : end) - at);
    if (part.starts_with(key)) return std::string(part.substr(key.size()));
    at = end == std::string::npos ? header.size() : end + 1;
  }
  return "";
}

bool SameToken(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<nlohmann::json> Body(const http::Request& req, http::Response& res) {
  // An HTML form on a foreign page can post text/plain, urlencoded or multipart without a
  // preflight; only a script of this origin can send JSON (issue 26, finding 11).
  std::string type = req.Header("Content-Type");
  if (type != "application/json" && !type.starts_with("application/json;")) {
    Error(res, 415, "the body must be application/json");
    return std::nullopt;
  }
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object()) {
    Error(res, 400, "the body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

std::optional<std::string> StringField(const nlohmann::json& body, const char* name,
                                       http::Response& res) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string() || it->get<std::string>().size() > 1024) {
    Error(res, 400, std::string("\"") + name + "\" must be a string");
    return std::nullopt;
  }
  return it->get<std::string>();
}

nlohmann::json SessionJson(const ConsoleSession& s) {
  return {
      {"user", s.user}, {"role", Name(s.role)}, {"must_change", s.must_change}, {"csrf", s.csrf}};
}

// The user's row as the store has it now (read pool); nullopt for no such user.
Result<std::optional<ConsoleUser>> ReadUser(ConsoleContext& ctx, const std::string& name) {
  auto db = ctx.reads->Acquire();
  return LoadConsoleUser(*db, name);
}

// The checks every API call after login makes, in order; nullopt when one refused (and
// answered) the request.
struct Gate {
  ConsoleContext& ctx;

  // `current`, if given, receives the user's row the checks read.
  std::optional<ConsoleSession> Session(const http::Request& req, http::Response& res, bool changes,
                                        bool allow_must_change = false,
                                        ConsoleUser* current = nullptr) {
    auto session = ctx.sessions->Use(SessionCookie(req));
    if (!session) {
      Error(res, 401, "login required (no session, or it expired)");
      return std::nullopt;
    }
    // The user as the store has them now, so a removal or reset on any node (or the CLI)
    // ends this session at its next request, and the role is the current one.
    Result<std::optional<ConsoleUser>> user = ReadUser(ctx, session->user);
    if (!user) {
      Error(res, user.error(), req);
      return std::nullopt;
    }
    // Refused, not forgotten: the session's own password change may be between its write
    // and PasswordChanged. A stale session stays refused and ends when idle.
    if (!*user || ConsoleCredential(**user) != session->credential) {
      Error(res, 401,
            "login required (signed out: the user was removed or their password "
            "changed)");
      return std::nullopt;
    }
    session->role = (*user)->role;
    if (changes && !SameToken(req.Header("X-CSRF-Token"), session->csrf)) {
      Error(res, 403, "missing or wrong CSRF token");
      return std::nullopt;
    }
    if (session->must_change && !allow_must_change) {
      Error(res, 403, "password change required");
      return std::nullopt;
    }
    if (current) *current = std::move(**user);
    return session;
  }

  // Operator actions: a viewer is refused, and the refusal audited with the user's name: the
  // first in a minute at once, the others of that minute counted into one record.
  bool Operator(const ConsoleSession& s, const std::string& action, http::Response& res) {
    if (s.role == ConsoleRole::kOperator) return true;
    Error(res, 403, "operator role required");
    if (ctx.denials && !ctx.denials->Record(s.user, action)) return false;
    auto audited = ctx.write([&](WriteContext& w) -> Status {
      IMPRINT_RETURN_IF_ERROR(
          w.Audit("console:" + s.user, "console.denied",
                  {{"user", s.user}, {"role", Name(s.role)}, {"action", action}}));
      return {};
    });
    if (!audited) LogWarning("console refusal not audited: " + audited.error().message());
    return false;
  }

  template <typename F>
  void Read(const http::Request& req, http::Response& res, F&& f) {
    auto db = ctx.reads->Acquire();
    Result<nlohmann::json> body = f(*db);
    if (!body) {
      Error(res, body.error(), req);
      return;
    }
    Json(res, 200, *body);
  }
};

void Login(ConsoleContext& ctx, const http::Request& req, http::Response& res) {
  const std::string& source = req.remote_addr;
  auto body = Body(req, res);
  if (!body) return;
  auto name = StringField(*body, "user", res);
  if (!name) return;
  auto password = StringField(*body, "password", res);
  if (!password) return;
  auto loaded = ReadUser(ctx, *name);
  if (!loaded) return Error(res, loaded.error(), req);
  std::optional<ConsoleUser> user = std::move(*loaded);
  if (!ctx.limiter->Begin(source)) {
    Error(res, 429, "too many failed logins from this address; try again later");
    return;
  }
  // An unknown user costs the same scrypt as a wrong password.
  static const std::string kDummy = HashPassword("imprint-no-such-user").value_or("");
  bool ok = VerifyPassword(user ? user->password_hash : kDummy, *password) && user.has_value();
  ctx.limiter->End(source, !ok);
  if (!ok) {
    if (ctx.auth_failures) ctx.auth_failures->Record(source, "console login failed");
    Error(res, 401, "wrong user name or password");
    return;
  }
  auto audited = ctx.write([&](WriteContext& w) -> Status {
    IMPRINT_RETURN_IF_ERROR(w.Audit("console:" + user->name, "console.login",
                                    {{"user", user->name}, {"source", source}}));
    return {};
  });
  if (!audited) {
    Error(res, 503, "cannot record the login; try again");
    return;
  }
  std::string id =
      ctx.sessions->Create(user->name, user->role, user->must_change, ConsoleCredential(*user));
  res.SetHeader("Set-Cookie",
                std::string(kCookie) + "=" + id + "; Path=/; HttpOnly; Secure; SameSite=Strict");
  Json(res, 200, SessionJson(*ctx.sessions->Use(id)));
}

void ChangePassword(ConsoleContext& ctx, Gate& gate, const http::Request& req,
                    http::Response& res) {
  ConsoleUser user;  // the row the gate just read and checked
  auto session = gate.Session(req, res, true, true, &user);
  if (!session) return;
  auto body = Body(req, res);
  if (!body) return;
  auto current = StringField(*body, "current", res);
  if (!current) return;
  auto next = StringField(*body, "new", res);
  if (!next) return;
  if (next->size() < kMinConsolePasswordLength) {
    Error(res, 400,
          "the new password needs at least " + std::to_string(kMinConsolePasswordLength) +
              " characters");
    return;
  }
  if (*next == *current) {
    Error(res, 400, "the new password must differ from the current one");
    return;
  }
  if (!ctx.limiter->Begin(req.remote_addr)) {
    Error(res, 429, "too many wrong passwords from this address; try again later");
    return;
  }
  bool right = VerifyPassword(user.password_hash, *current);
  ctx.limiter->End(req.remote_addr, !right);
  if (!right) {
    Error(res, 403, "the current password is wrong");
    return;
  }
  auto hash = HashPassword(*next);
  if (!hash) {
    Error(res, 503, "cannot hash the password");
    return;
  }
  auto written =
      ctx.write([&](WriteContext& w) { return SetConsolePassword(w, user.name, *hash); });
  if (!written) {
    Error(res, 503, "cannot store the password; try again");
    return;
  }
  // This session goes on with the new credential; the user's other sessions end.
  user.password_hash = *hash;
  ctx.sessions->PasswordChanged(SessionCookie(req), ConsoleCredential(user));
  auto changed = ctx.sessions->Use(SessionCookie(req));
  if (!changed) return Error(res, 401, "login required (the session ended during the change)");
  Json(res, 200, SessionJson(*changed));
}

void CloseOrder(ConsoleContext& ctx, Gate& gate, const http::Request& req, http::Response& res) {
  auto session = gate.Session(req, res, true);
  if (!session || !gate.Operator(*session, "order.close", res)) return;
  std::string id = req.matches[1];
  if (!IsValidIdentifier(id)) return Error(res, 400, "invalid order id");
  auto closed =
      ctx.write([&](WriteContext& w) { return CloseOrder(w, id, "console:" + session->user); });
  if (!closed) return Error(res, closed.error(), req);
  Json(res, 200, {{"order", id}, {"status", "closed"}});
}

void RevokeDevice(ConsoleContext& ctx, Gate& gate, const http::Request& req, http::Response& res) {
  auto session = gate.Session(req, res, true);
  if (!session || !gate.Operator(*session, "device.revoke", res)) return;
  std::string id = req.matches[1];
  if (!IsValidIdentifier(id)) return Error(res, 400, "invalid device id");
  auto body = Body(req, res);
  if (!body) return;
  auto reason_text = StringField(*body, "reason", res);
  if (!reason_text) return;
  auto reason = x509::ParseCrlReason(*reason_text);
  if (!reason) return Error(res, 400, reason.error().message());
  RevocationRequest request;
  request.scope = RevocationRequest::Scope::kDevice;
  request.id = id;
  request.reason = *reason;
  request.actor = "console:" + session->user;
  RevocationOutcome outcome;
  auto revoked = ctx.write([&](WriteContext& w) { return Revoke(w, request, outcome); });
  if (!revoked) return Error(res, revoked.error(), req);
  Json(res, 200, {{"device", id}, {"revoked", outcome.revoked}});
}

void Asset(http::Server& server, std::string_view path, const ConsoleAsset& asset) {
  server.Get(std::string(path), [&asset](const http::Request&, http::Response& res) {
    res.SetContent(std::string(asset.content), asset.type);
  });
}

}  // namespace

void AddConsoleRoutes(http::Server& server, ConsoleContext& ctx) {
  auto gate = std::make_shared<Gate>(Gate{ctx});
  ConsoleContext* c = &ctx;
  for (const ConsoleAsset& asset : ConsoleAssets()) {
    Asset(server, asset.path, asset);
    if (asset.path == "/index.html") Asset(server, "/", asset);
  }
  server.Post("/api/v1/session",
              [c](const http::Request& req, http::Response& res) { Login(*c, req, res); });
  server.Get("/api/v1/session", [gate](const http::Request& req, http::Response& res) {
    auto session = gate->Session(req, res, false, true);
    if (session) Json(res, 200, SessionJson(*session));
  });
  server.Delete("/api/v1/session", [c, gate](const http::Request& req, http::Response& res) {
    auto session = gate->Session(req, res, true, true);
    if (!session) return;
    c->sessions->Remove(SessionCookie(req));
    res.SetHeader("Set-Cookie", std::string(kCookie) +
                                    "=; Path=/; HttpOnly; Secure; "
                                    "SameSite=Strict; Max-Age=0");
    Json(res, 200, {{"user", session->user}, {"logged_out", true}});
  });
  server.Post("/api/v1/password", [c, gate](const http::Request& req, http::Response& res) {
    ChangePassword(*c, *gate, req, res);
  });
  server.Get("/api/v1/line", [gate](const http::Request& req, http::Response& res) {
    if (!gate->Session(req, res, false)) return;
    gate->Read(req, res, [](sql::Database& db) { return LineNow(db, NowMs()); });
  });
  server.Get("/api/v1/orders", [gate](const http::Request& req, http::Response& res) {
    if (!gate->Session(req, res, false)) return;
    gate->Read(req, res, [](sql::Database& db) { return OrdersJson(db); });
  });
  server.Get("/api/v1/orders/{}", [gate](const http::Request& req, http::Response& res) {
    if (!gate->Session(req, res, false)) return;
    std::string id = req.matches[1];
    std::string prefix = req.Query("q");
    if (!IsValidIdentifier(id)) return Error(res, 400, "invalid order id");
    if (!prefix.empty() && !IsValidIdentifier(prefix))
      return Error(res, 400, "invalid device id prefix");
    gate->Read(req, res,
               [&](sql::Database& db) { return OrderJson(db, id, prefix, kDevicePageLimit); });
  });
  server.Post("/api/v1/orders/{}/close", [c, gate](const http::Request& req, http::Response& res) {
    CloseOrder(*c, *gate, req, res);
  });
  server.Post("/api/v1/devices/{}/revoke",
              [c, gate](const http::Request& req, http::Response& res) {
                RevokeDevice(*c, *gate, req, res);
              });
  server.Get("/api/v1/stations", [c, gate](const http::Request& req, http::Response& res) {
    if (!gate->Session(req, res, false)) return;
    auto seen = c->metrics ? c->metrics->LastSeenMs() : std::map<std::string, int64_t>{};
    gate->Read(req, res, [&](sql::Database& db) { return StationsJson(db, NowMs(), seen); });
  });
  server.Get("/api/v1/audit", [c, gate](const http::Request& req, http::Response& res) {
    if (!gate->Session(req, res, false)) return;
    gate->Read(req, res, [&](sql::Database& db) -> Result<nlohmann::json> {
      IMPRINT_ASSIGN_OR_RETURN(nlohmann::json head, AuditHeadJson(db));
      head["last_verification"] = c->last_verification ? c->last_verification() : nullptr;
      return head;
    });
  });
}

}  // namespace imprint::ca
