// The station's retries reach the peer again: each attempt of CallWithRetry is a new connect,
// not a fast failure inside gRPC's own reconnect backoff.
#include "factory_station/retry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "imprint/v1/agent.grpc.pb.h"

namespace {

using imprint::station::CallWithRetry;
using imprint::station::RetryChannelArguments;
using imprint::station::RetryPolicy;

// A fixture contact that drops every connection: accepts and closes at once, counting.
class DroppingPeer {
 public:
  DroppingPeer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    REQUIRE(listen(fd_, 16) == 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~DroppingPeer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++accepted_;
      close(c);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

grpc::Status GetIdentity(imprint::v1::DeviceAgent::Stub& agent, const RetryPolicy& policy) {
  imprint::v1::DeviceIdentity identity;
  return CallWithRetry(policy, [&](grpc::ClientContext& c) {
    return agent.GetIdentity(&c, imprint::v1::GetIdentityRequest(), &identity);
  });
}

}  // namespace

TEST_CASE("each retry of a dropped device connection connects again") {
  DroppingPeer peer;
  RetryPolicy policy{.max_attempts = 10,
                     .first_backoff = std::chrono::milliseconds(50),
                     .max_backoff = std::chrono::milliseconds(200)};
  auto channel = grpc::CreateCustomChannel(peer.address(), grpc::InsecureChannelCredentials(),
                                           RetryChannelArguments(policy));
  auto agent = imprint::v1::DeviceAgent::NewStub(channel);
  auto status = GetIdentity(*agent, policy);
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  // Ten attempts over 1.6 s. gRPC's backoff jitter (20%) may let some fall inside a backoff
  // window: measured 9 connects; with gRPC's default backoff (1 s) the same attempts made 3.
  CHECK(peer.accepted() >= 6);
}
