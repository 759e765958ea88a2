#include "tests/support/raw_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace imprint::testing {
namespace {

bool ParseIpv4(const std::string& host, int port, sockaddr_in* out) {
  *out = {};
  out->sin_family = AF_INET;
  out->sin_port = htons(static_cast<uint16_t>(port));
  return inet_pton(AF_INET, host.c_str(), &out->sin_addr) == 1;
}

}  // namespace

RawSocket::RawSocket(const std::string& address, const std::string& source) {
  size_t colon = address.rfind(':');
  sockaddr_in to;
  if (colon == std::string::npos ||
      !ParseIpv4(address.substr(0, colon), std::stoi(address.substr(colon + 1)), &to)) {
    return;
  }
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in from;
  bool ok = source.empty() || (ParseIpv4(source, 0, &from) &&
                               bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof(from)) == 0);
  if (!ok || connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) close(fd_);
}

bool RawSocket::Send(const std::string& bytes) {
  if (fd_ < 0) return false;
  for (size_t sent = 0; sent < bytes.size();) {
    ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string RawSocket::ReadUntilClosed(std::chrono::milliseconds wait) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (fd_ >= 0 && !peer_closed_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      peer_closed_ = true;
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

bool RawSocket::ClosedWithin(std::chrono::milliseconds wait) {
  if (fd_ < 0) return true;
  ReadUntilClosed(wait);
  return peer_closed_;
}

int HttpStatus(const std::string& answer) {
  if (!answer.starts_with("HTTP/1.") || answer.size() < 12) return -1;
  return std::atoi(answer.c_str() + 9);
}

}  // namespace imprint::testing
