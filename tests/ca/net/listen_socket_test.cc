// ListenOn and NumericPeer (ca/net/listen_socket.h): what both kinds of CA listener bind with.

#include "ca/net/listen_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/support/raw_socket.h"

namespace imprint::ca {

TEST_CASE("a listener on port 0 reports the port the kernel chose", "[net]") {
  auto bound = ListenOn("127.0.0.1:0", {}, "test listener");
  REQUIRE(bound);
  CHECK(bound->port > 0);
  CHECK(bound->family == AF_INET);
  CHECK(bound->address == "127.0.0.1:" + std::to_string(bound->port));
  testing::RawSocket client(bound->address);  // it accepts connections

  // The same port again: taken.
  auto again = ListenOn(bound->address, {}, "second listener");
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == Code::kUnavailable);
  CHECK(again.error().message() == "cannot listen on " + bound->address + " (second listener)");
  close(bound->fd);
}

TEST_CASE("an IPv6 listener's address keeps its brackets", "[net]") {
  auto bound = ListenOn("[::1]:0", {.nonblocking = true, .no_delay = true}, "v6");
  if (!bound) {
    WARN("no IPv6 loopback here: " + bound.error().message());
    return;
  }
  CHECK(bound->family == AF_INET6);
  CHECK(bound->address == "[::1]:" + std::to_string(bound->port));
  close(bound->fd);
}

TEST_CASE("a listen address that is not HOST:PORT is refused", "[net]") {
  for (const char* address : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "localhost:80x", ""}) {
    INFO(address);
    auto bound = ListenOn(address, {}, "[status] listen");
    REQUIRE_FALSE(bound);
    CHECK(bound.error().code() == Code::kInvalidArgument);
    CHECK(bound.error().message() == "[status] listen must be HOST:PORT");
  }
  auto unknown = ListenOn("no-such-host.invalid:0", {}, "[status] listen");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code() == Code::kUnavailable);
}

TEST_CASE("a peer's address is numeric, an IPv4-mapped one in its IPv4 form", "[net]") {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  REQUIRE(inet_pton(AF_INET, "10.1.2.3", &v4.sin_addr) == 1);
  CHECK(NumericPeer(reinterpret_cast<const sockaddr*>(&v4)) == "10.1.2.3");
  sockaddr_in6 mapped{};
  mapped.sin6_family = AF_INET6;
  REQUIRE(inet_pton(AF_INET6, "::ffff:10.1.2.3", &mapped.sin6_addr) == 1);
  CHECK(NumericPeer(reinterpret_cast<const sockaddr*>(&mapped)) == "10.1.2.3");
  sockaddr_in6 v6 = mapped;
  REQUIRE(inet_pton(AF_INET6, "fe80::1", &v6.sin6_addr) == 1);
  CHECK(NumericPeer(reinterpret_cast<const sockaddr*>(&v6)) == "fe80::1");
  sockaddr other{};
  other.sa_family = AF_UNIX;
  CHECK(NumericPeer(&other).empty());
  CHECK(NumericPeer(nullptr).empty());
}

}  // namespace imprint::ca
