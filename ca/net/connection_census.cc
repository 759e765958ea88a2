#include "ca/net/connection_census.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "ca/net/listen_socket.h"

namespace imprint::ca {

Result<ConnectionCensus> ConnectionCensus::Open() {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return Fail(Code::kUnavailable, std::string("sock_diag socket: ") + strerror(errno));
  return ConnectionCensus(fd);
}

ConnectionCensus::ConnectionCensus(ConnectionCensus&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

ConnectionCensus::~ConnectionCensus() {
  if (fd_ >= 0) close(fd_);
}

Status ConnectionCensus::Dump(int family, uint16_t local_port, PortConnections& into) {
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.request.sdiag_family = static_cast<uint8_t>(family);
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = (1u << TCP_ESTABLISHED) | (1u << TCP_CLOSE_WAIT);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_, &message, sizeof(message), 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof(kernel)) < 0) {
    return Fail(Code::kUnavailable, std::string("sock_diag request: ") + strerror(errno));
  }
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(Code::kUnavailable, std::string("sock_diag answer: ") + strerror(errno));
    }
    auto* h = reinterpret_cast<nlmsghdr*>(buffer.data());
    int left = static_cast<int>(n);
    for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == NLMSG_DONE) return {};
      if (h->nlmsg_type == NLMSG_ERROR) return Fail(Code::kUnavailable, "sock_diag refused");
      const auto* socket = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      if (ntohs(socket->id.idiag_sport) != local_port) continue;
      ++into.total;
      ++into.per_source[AddressText(socket->idiag_family, socket->id.idiag_dst)];
    }
  }
}

Result<PortConnections> ConnectionCensus::Count(uint16_t local_port) {
  PortConnections counted;
  IMPRINT_RETURN_IF_ERROR(Dump(AF_INET, local_port, counted));
  IMPRINT_RETURN_IF_ERROR(Dump(AF_INET6, local_port, counted));
  return counted;
}

}  // namespace imprint::ca
