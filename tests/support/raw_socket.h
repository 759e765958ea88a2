#pragma once
// RawSocket: a plain TCP client for hostile HTTP tests, which need what no HTTP client library
// sends: headers that drip, never end or never come, bodies announced and never sent, a
// chosen source address on the loopback network (127.0.0.2 ...).

#include <chrono>
#include <string>

namespace imprint::testing {

class RawSocket {
 public:
  // Connects to HOST:PORT (IPv4), from `source` when it is given; connected() says whether it did.
  explicit RawSocket(const std::string& address, const std::string& source = "");
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return fd_ >= 0; }
  // False once the peer has closed (or reset) the connection. Never raises SIGPIPE.
  bool Send(const std::string& bytes);
  // Everything received until the peer closes or `wait` passes.
  std::string ReadUntilClosed(std::chrono::milliseconds wait);
  // Whether the peer closed the connection within `wait` (any bytes it sent first are dropped).
  bool ClosedWithin(std::chrono::milliseconds wait);

 private:
  int fd_ = -1;
  bool peer_closed_ = false;
};

// The status code of an HTTP/1.1 answer ("HTTP/1.1 431 ..."), or -1.
int HttpStatus(const std::string& answer);

}  // namespace imprint::testing
