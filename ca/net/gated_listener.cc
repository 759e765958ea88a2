#include "ca/net/gated_listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "ca/net/listen_socket.h"
#include "common/log.h"

namespace imprint::ca {
namespace {

constexpr int kBacklog = 256;
constexpr auto kRefusalLogEvery = std::chrono::seconds(60);

}  // namespace

Result<std::unique_ptr<GatedListener>> GatedListener::Bind(const std::string& address,
                                                           const GateLimits& limits,
                                                           std::string what) {
  std::unique_ptr<GatedListener> l(new GatedListener());
  l->what_ = std::move(what);
  l->limits_ = limits;
  IMPRINT_ASSIGN_OR_RETURN(ConnectionCensus census, ConnectionCensus::Open());
  l->census_ = std::make_unique<ConnectionCensus>(std::move(census));
  // Non-blocking: the accept loop polls it. TCP_NODELAY, inherited by accepted sockets: small
  // calls are not held back by Nagle (as gRPC's own listener sets it).
  IMPRINT_ASSIGN_OR_RETURN(
      ListeningSocket bound,
      ListenOn(address, {.backlog = kBacklog, .nonblocking = true, .no_delay = true}, l->what_));
  l->listen_fd_ = bound.fd;
  l->port_ = bound.port;
  l->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  l->reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (l->wake_fd_ < 0 || l->reserve_fd_ < 0) {
    return Fail(Code::kUnavailable, l->what_ + ": " + strerror(errno));
  }
  return l;
}

GatedListener::~GatedListener() {
  Stop();
  for (int fd : {listen_fd_, wake_fd_, reserve_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void GatedListener::Attach(grpc::ServerBuilder& builder,
                           std::shared_ptr<grpc::ServerCredentials> credentials) {
  acceptor_ = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
      std::move(credentials));
}

void GatedListener::Start() {
  thread_ = std::thread([this] { AcceptLoop(); });
}

void GatedListener::Stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  thread_.join();
}

bool GatedListener::Admit(const std::string& peer) {
  auto counted = census_->Count(static_cast<uint16_t>(port_));
  if (!counted) {
    // Without a census the caps cannot be applied; the connection is served (the descriptor
    // limit still protects the listener itself).
    LogWarning(what_ + ": connection census failed: " + counted.error().message());
    return true;
  }
  auto it = counted->per_source.find(peer);
  unsigned from_peer = it == counted->per_source.end() ? 1 : it->second;
  return counted->total <= limits_.max_connections && from_peer <= limits_.max_per_source;
}

void GatedListener::RefuseOneAtDescriptorLimit() {
  close(reserve_fd_);
  int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) close(fd);
  reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ++refused_;
}

void GatedListener::AcceptLoop() {
  auto last_log = std::chrono::steady_clock::now() - kRefusalLogEvery;
  uint64_t logged_refusals = 0;
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (fds[1].revents != 0) return;
    auto now = std::chrono::steady_clock::now();
    if (refused_ != logged_refusals && now - last_log >= kRefusalLogEvery) {
      LogWarning(what_ + ": refused " + std::to_string(refused_ - logged_refusals) +
                 " connection(s) past its limits (" + std::to_string(limits_.max_connections) +
                 " in all, " + std::to_string(limits_.max_per_source) +
                 " per source) or the descriptor limit");
      logged_refusals = refused_;
      last_log = now;
    }
    if ((fds[0].revents & POLLIN) == 0) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    int fd =
        accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        RefuseOneAtDescriptorLimit();
      } else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        // Whatever it is (ENOBUFS, ENOMEM), the listener stays: try again shortly.
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      continue;
    }
    if (!Admit(NumericPeer(reinterpret_cast<const sockaddr*>(&peer)))) {
      close(fd);
      ++refused_;
      continue;
    }
    grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters params;
    params.listener_fd = listen_fd_;
    params.fd = fd;
    acceptor_->HandleNewConnection(&params);  // gRPC owns fd from here on
  }
}

}  // namespace imprint::ca
