#include "ca/net/listen_socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

namespace imprint::ca {

Result<ListeningSocket> ListenOn(std::string_view address, const ListenOptions& options,
                                 std::string_view what) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == address.size() ||
      address.find_first_not_of("0123456789", colon + 1) != std::string_view::npos) {
    return Fail(Code::kInvalidArgument, std::string(what) + " must be HOST:PORT");
  }
  std::string host(address.substr(0, colon));
  std::string port(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  ListeningSocket bound;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found) == 0) {
    for (addrinfo* a = found; a != nullptr && bound.fd < 0; a = a->ai_next) {
      int type = a->ai_socktype | SOCK_CLOEXEC | (options.nonblocking ? SOCK_NONBLOCK : 0);
      int fd = socket(a->ai_family, type, a->ai_protocol);
      if (fd < 0) continue;
      int on = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
      if (options.no_delay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
      if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, options.backlog) != 0) {
        close(fd);
        continue;
      }
      bound.fd = fd;
      bound.family = a->ai_family;
    }
    freeaddrinfo(found);
  }
  if (bound.fd < 0) {
    return Fail(Code::kUnavailable,
                "cannot listen on " + std::string(address) + " (" + std::string(what) + ")");
  }
  sockaddr_storage local{};
  socklen_t length = sizeof(local);
  if (getsockname(bound.fd, reinterpret_cast<sockaddr*>(&local), &length) == 0) {
    bound.port =
        ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port
                                          : reinterpret_cast<const sockaddr_in*>(&local)->sin_port);
  }
  bound.address =
      (bound.family == AF_INET6 ? "[" + host + "]" : host) + ":" + std::to_string(bound.port);
  return bound;
}

std::string AddressText(int family, const void* raw) {
  char text[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET6) {
    const auto* v6 = static_cast<const in6_addr*>(raw);
    if (IN6_IS_ADDR_V4MAPPED(v6)) return AddressText(AF_INET, &v6->s6_addr[12]);
  }
  if (inet_ntop(family, raw, text, sizeof(text)) == nullptr) return "";
  return text;
}

std::string NumericPeer(const sockaddr* addr) {
  if (addr == nullptr) return "";
  if (addr->sa_family == AF_INET6) {
    return AddressText(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr);
  }
  if (addr->sa_family == AF_INET) {
    return AddressText(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr);
  }
  return "";
}

}  // namespace imprint::ca
