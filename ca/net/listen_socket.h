#pragma once
// The listening sockets the CA binds itself (the gated gRPC listeners and the HTTP listeners),
// and the numeric text of a peer's address, which both listeners' per-source caps count by.

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "common/error.h"

namespace imprint::ca {

struct ListenOptions {
  int backlog = 64;          // the kernel's queue of connections not yet accepted
  bool nonblocking = false;  // the socket itself (accepted sockets do not inherit it)
  bool no_delay = false;     // TCP_NODELAY, inherited by accepted sockets
};

struct ListeningSocket {
  int fd = -1;  // the caller's to close
  int family = AF_INET;
  int port = 0;         // the bound port (the one the kernel chose for port 0)
  std::string address;  // HOST:PORT with that port; an IPv6 host in brackets
};

// Binds and listens on "HOST:PORT" ("[::1]:443", ":8443" for every address). A malformed
// address is INVALID_ARGUMENT ("WHAT must be HOST:PORT"); one that cannot be bound is
// UNAVAILABLE ("cannot listen on ADDRESS (WHAT)").
Result<ListeningSocket> ListenOn(std::string_view address, const ListenOptions& options,
                                 std::string_view what);

// The numeric form of an IPv4 or IPv6 address ("127.0.0.2", "::1"); IPv4-mapped IPv6 addresses
// are given in their IPv4 form, so one peer is one source whichever way it connected.
// `raw` is an in_addr or in6_addr as `family` says.
std::string AddressText(int family, const void* raw);
// The same for a socket address (AF_INET or AF_INET6); "" for null or another family.
std::string NumericPeer(const sockaddr* addr);

}  // namespace imprint::ca
