#include "ca/console/server.h"

#include <openssl/crypto.h>

#include "ca/admin.h"
#include "ca/audit/commands.h"
#include "ca/http/tls_identity.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/utc_time.h"

namespace imprint::ca {
namespace {

// The listener's limits (docs/operations.md, "HTTP listeners"). A browser's cookies and
// headers fit in 16 KB; a login or a revocation is well under 64 KB of JSON.
http::HttpLimits ConsoleLimits() {
  http::HttpLimits limits;
  limits.max_body_bytes = 64 * 1024;
  limits.max_header_bytes = 16 * 1024;
  limits.max_connections = 128;
  limits.max_per_source = 16;
  return limits;
}

constexpr auto kVerifyEvery = std::chrono::minutes(10);

void SecurityHeaders(http::Response& res) {
  // Scripts, styles and data from this origin only, never inline; no framing anywhere.
  res.SetHeader("Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.SetHeader("X-Frame-Options", "DENY");
  res.SetHeader("X-Content-Type-Options", "nosniff");
  res.SetHeader("Referrer-Policy", "no-referrer");
  res.SetHeader("Cache-Control", "no-store");
  res.SetHeader("Strict-Transport-Security", "max-age=31536000");
}

// Constant-time comparison of the presented bearer token with the configured one.
bool TokenMatches(const std::string& header, const Secret& token) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (token.size() == 0 || !header.starts_with(kPrefix)) return false;
  std::string_view presented = std::string_view(header).substr(kPrefix.size());
  std::string_view expected = token.Reveal();
  return presented.size() == expected.size() &&
         CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

}  // namespace

Result<std::unique_ptr<ConsoleServer>> ConsoleServer::Start(const CaConfig& config,
                                                            ConsoleOptions options) {
  std::unique_ptr<ConsoleServer> s(new ConsoleServer());
  s->options_ = std::move(options);
  IMPRINT_ASSIGN_OR_RETURN(s->metrics_token_, config.ReadMetricsToken());
  IMPRINT_ASSIGN_OR_RETURN(http::TlsIdentity tls, LoadTlsIdentity(config, "console"));
  s->server_ = std::make_unique<http::Server>();
  http::Server& server = *s->server_;
  server.SetAfterEach(SecurityHeaders);

  ConsoleServer* raw = s.get();
  s->sessions_ = std::make_unique<SessionStore>(
      std::chrono::seconds(std::chrono::minutes(config.console_session_idle_minutes)));
  s->config_ = config;
  s->context_.config = &s->config_;
  s->context_.reads = s->options_.reads;
  s->context_.write = s->options_.write;
  s->context_.metrics = s->options_.metrics;
  s->context_.auth_failures = s->options_.auth_failures;
  s->denials_ = std::make_unique<AuthFailures>(s->options_.write, AuthFailures::kWindowMs,
                                               AggregateAudit{.event = "console.denied",
                                                              .key_field = "user",
                                                              .actor_prefix = "console:",
                                                              .first_written = true});
  s->context_.denials = s->denials_.get();
  s->context_.sessions = s->sessions_.get();
  s->context_.limiter = &s->limiter_;
  s->context_.last_verification = [raw] {
    std::lock_guard lock(raw->verify_mu_);
    return raw->verification_;
  };
  AddConsoleRoutes(server, s->context_);
  server.Get("/metrics", [raw](const http::Request& req, http::Response& res) {
    if (raw->metrics_token_.size() == 0) {
      res.status = 404;  // metrics are off without a token file
      return;
    }
    if (!TokenMatches(req.Header("Authorization"), raw->metrics_token_)) {
      if (raw->options_.auth_failures) {
        raw->options_.auth_failures->Record(req.remote_addr, "metrics bearer token invalid");
      }
      res.status = 401;
      res.SetHeader("WWW-Authenticate", "Bearer realm=\"imprint-ca\"");
      res.SetContent("bearer token required\n", "text/plain");
      return;
    }
    auto text = raw->options_.scrape();
    if (!text) {
      LogWarning("metrics scrape failed: " + text.error().message());
      res.status = 503;
      res.SetContent("metrics unavailable\n", "text/plain");
      return;
    }
    res.SetContent(*text, "text/plain; version=0.0.4; charset=utf-8");
  });
  Result<std::string> bound =
      server.Start(config.console_listen, "console.listen", ConsoleLimits(), &tls);
  OPENSSL_cleanse(tls.key_pem.data(), tls.key_pem.size());  // the server keeps its own copy
  if (!bound) return std::unexpected(bound.error());
  s->address_ = *bound;
  s->verify_thread_ = std::thread([raw] { raw->VerifyAuditLoop(); });
  return s;
}

Status ConsoleServer::FlushDenials(bool everything) { return denials_->Flush(everything); }

void ConsoleServer::VerifyAuditLoop() {
  std::unique_lock lock(verify_mu_);
  while (!stopping_) {
    lock.unlock();
    int64_t started = NowMs();
    auto summary = AuditVerify(config_);
    nlohmann::json result = {{"time_ms", started}, {"ok", summary.has_value()}};
    if (summary) {
      result["records"] = summary->records;
      result["sealed_through"] = summary->last_sealed;
    } else {
      result["error"] = summary.error().message();
      LogWarning("console: audit verification failed: " + summary.error().message());
    }
    lock.lock();
    verification_ = std::move(result);
    verify_cv_.wait_for(lock, kVerifyEvery, [this] { return stopping_; });
  }
}

ConsoleServer::~ConsoleServer() {
  {
    std::lock_guard lock(verify_mu_);
    stopping_ = true;
  }
  verify_cv_.notify_all();
  if (verify_thread_.joinable()) verify_thread_.join();
  if (server_) server_->Stop();
  if (denials_) {
    if (auto flushed = denials_->Flush(true); !flushed) {
      LogWarning("console refusals lost at shutdown: " + flushed.error().message());
    }
  }
}

}  // namespace imprint::ca
