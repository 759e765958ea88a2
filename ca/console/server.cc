#include "ca/console/server.h"

#include <httplib.h>
#include <openssl/crypto.h>

#include "ca/admin.h"
#include "ca/audit/commands.h"
#include "ca/http/listener.h"
#include "common/log.h"
#include "common/utc_time.h"

namespace imprint::ca {
namespace {

constexpr size_t kMaxRequestBytes = 64 * 1024;
constexpr size_t kThreads = 8;

constexpr auto kVerifyEvery = std::chrono::minutes(10);

void SecurityHeaders(httplib::Response& res) {
  // Scripts, styles and data from this origin only, never inline; no framing anywhere.
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                 "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
  res.set_header("Strict-Transport-Security", "max-age=31536000");
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
  s->server_ = std::make_unique<httplib::SSLServer>(config.TlsCertPath().c_str(),
                                                    config.TlsKeyPath().c_str());
  httplib::SSLServer& server = *s->server_;
  if (!server.is_valid()) {
    return Fail(Code::kFailedPrecondition,
                "console: cannot load the CA's TLS identity (" + config.TlsCertPath() + ")");
  }
  server.set_payload_max_length(kMaxRequestBytes);
  server.set_tcp_nodelay(true);
  server.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  AllowOneRangeAtMost(server);
  server.set_post_routing_handler(
      [](const httplib::Request&, httplib::Response& res) { SecurityHeaders(res); });

  ConsoleServer* raw = s.get();
  s->sessions_ = std::make_unique<SessionStore>(
      std::chrono::seconds(std::chrono::minutes(config.console_session_idle_minutes)));
  s->config_ = config;
  s->context_.config = &s->config_;
  s->context_.reads = s->options_.reads;
  s->context_.write = s->options_.write;
  s->context_.metrics = s->options_.metrics;
  s->context_.auth_failures = s->options_.auth_failures;
  s->context_.sessions = s->sessions_.get();
  s->context_.limiter = &s->limiter_;
  s->context_.last_verification = [raw] {
    std::lock_guard lock(raw->verify_mu_);
    return raw->verification_;
  };
  AddConsoleRoutes(server, s->context_);
  server.Get("/metrics", [raw](const httplib::Request& req, httplib::Response& res) {
    if (raw->metrics_token_.size() == 0) {
      res.status = 404;  // metrics are off without a token file
      return;
    }
    if (!TokenMatches(req.get_header_value("Authorization"), raw->metrics_token_)) {
      if (raw->options_.auth_failures) {
        raw->options_.auth_failures->Record(req.remote_addr, "metrics bearer token invalid");
      }
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer realm=\"imprint-ca\"");
      res.set_content("bearer token required\n", "text/plain");
      return;
    }
    auto text = raw->options_.scrape();
    if (!text) {
      LogWarning("metrics scrape failed: " + text.error().message());
      res.status = 503;
      res.set_content("metrics unavailable\n", "text/plain");
      return;
    }
    res.set_content(*text, "text/plain; version=0.0.4; charset=utf-8");
  });
  IMPRINT_ASSIGN_OR_RETURN(
      s->address_, BindAndServe(server, config.console_listen, s->thread_, "console.listen"));
  s->verify_thread_ = std::thread([raw] { raw->VerifyAuditLoop(); });
  return s;
}

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
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace imprint::ca
