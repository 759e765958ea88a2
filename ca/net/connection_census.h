#pragma once
// ConnectionCensus: how many TCP connections the kernel holds on one local port, in all and
// per peer address, read from the kernel (NETLINK_SOCK_DIAG) rather than counted by us: gRPC
// owns and closes the connections the CA hands it and says nothing when it does, so the kernel
// is the one place that knows. Counts sockets in ESTABLISHED and CLOSE_WAIT (a peer that has
// closed while the CA still holds the descriptor). Not thread-safe; one per accept loop.

#include <cstdint>
#include <map>
#include <string>

#include "common/error.h"

namespace imprint::ca {

struct PortConnections {
  unsigned total = 0;
  std::map<std::string, unsigned> per_source;  // by numeric peer address
};

class ConnectionCensus {
 public:
  // Opens the netlink socket now, so that a census works when descriptors have run out.
  static Result<ConnectionCensus> Open();
  ConnectionCensus(ConnectionCensus&& other) noexcept;
  ConnectionCensus& operator=(ConnectionCensus&&) = delete;
  ~ConnectionCensus();

  Result<PortConnections> Count(uint16_t local_port);

 private:
  explicit ConnectionCensus(int fd) : fd_(fd) {}
  Status Dump(int family, uint16_t local_port, PortConnections& into);

  int fd_ = -1;
};

}  // namespace imprint::ca
