#include "ca/http/listener.h"

#include <httplib.h>

#include <chrono>

#include "common/log.h"

namespace imprint::ca {

void AllowOneRangeAtMost(httplib::Server& server) {
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Range").find(',') == std::string::npos &&
        req.get_header_value_count("Range") <= 1) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    // No body: httplib would apply the ranges to it as well, one copy per part.
    res.status = 416;
    return httplib::Server::HandlerResponse::Handled;
  });
}

Result<std::string> BindAndServe(httplib::Server& server, const std::string& listen,
                                 std::thread& thread, const std::string& what) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return Fail(Code::kInvalidArgument, what + " must be HOST:PORT");
  }
  std::string host = listen.substr(0, colon);
  int port = std::atoi(listen.c_str() + colon + 1);
  int bound = port;
  if (port == 0) {
    bound = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0) return Fail(Code::kUnavailable, "cannot listen on " + listen + " (" + what + ")");
  thread = std::thread([&server, what] {
    if (!server.listen_after_bind()) LogWarning(what + " listener stopped");
  });
  // Running before this returns: a stop() that came first would leave listen_after_bind
  // blocked for good.
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return host + ":" + std::to_string(bound);
}

}  // namespace imprint::ca
