#include "common/rpc/grpc_log.h"

#include <grpc/support/log.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <string>

#include "common/log.h"

namespace imprint::rpc {
namespace {

struct Router {
  std::mutex mu;
  std::function<void()> on_listener_lost;
  bool listener_lost = false;
  std::chrono::steady_clock::time_point window_start{};
  int lines_in_window = 0;
  long suppressed = 0;
};

Router& TheRouter() {
  static Router* router = new Router();  // outlives gRPC's last log line at exit
  return *router;
}

void Route(gpr_log_func_args* args) {
  Router& r = TheRouter();
  const char* message = args->message ? args->message : "";
  std::function<void()> lost;
  std::string dropped;
  bool emit = false;
  {
    std::lock_guard lock(r.mu);
    if (std::strstr(message, "Failed accept4") != nullptr && !r.listener_lost) {
      r.listener_lost = true;
      lost = r.on_listener_lost;
    }
    auto now = std::chrono::steady_clock::now();
    if (now - r.window_start >= std::chrono::seconds(kGrpcLogWindowSeconds)) {
      if (r.suppressed > 0) {
        dropped = "grpc: " + std::to_string(r.suppressed) + " log lines suppressed (rate limit)";
      }
      r.window_start = now;
      r.lines_in_window = 0;
      r.suppressed = 0;
    }
    emit = lost || r.lines_in_window < kGrpcLogBurst;
    if (emit) {
      ++r.lines_in_window;
    } else {
      ++r.suppressed;
    }
  }
  if (!dropped.empty()) LogWarning(dropped);
  if (emit) {
    LogLevel level = args->severity == GPR_LOG_SEVERITY_ERROR  ? LogLevel::kError
                     : args->severity == GPR_LOG_SEVERITY_INFO ? LogLevel::kInfo
                                                               : LogLevel::kDebug;
    Log(level, std::string("grpc: ") + message);
  }
  if (lost) lost();
}

}  // namespace

void RouteGrpcLogs(std::function<void()> on_listener_lost) {
  {
    Router& r = TheRouter();
    std::lock_guard lock(r.mu);
    r.on_listener_lost = std::move(on_listener_lost);
  }
  gpr_set_log_function(Route);
}

}  // namespace imprint::rpc
