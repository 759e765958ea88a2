#pragma once
// gRPC's own log lines, routed through imprint's log with a rate limit. gRPC logs one line per
// failed TLS handshake, so without a limit any peer could fill the journal by connecting with
// a wrong certificate. Also reports the one gRPC failure a server cannot recover from by
// itself: in gRPC 1.51 a listener whose accept() fails with anything but EAGAIN (EMFILE when
// the process runs out of file descriptors) stops accepting for good.

#include <functional>

namespace imprint::rpc {

// Installs the router; `on_listener_lost` is called (once, from a gRPC thread) when a listener
// stopped accepting. At most kGrpcLogBurst lines per kGrpcLogWindowSeconds reach the log; the
// rest are counted and the count is logged when the next window opens.
inline constexpr int kGrpcLogBurst = 20;
inline constexpr int kGrpcLogWindowSeconds = 10;
void RouteGrpcLogs(std::function<void()> on_listener_lost);

}  // namespace imprint::rpc
