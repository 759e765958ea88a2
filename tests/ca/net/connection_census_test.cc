// ConnectionCensus (ca/net/connection_census.h) against connections the test opens itself.

#include "ca/net/connection_census.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "tests/support/raw_socket.h"

namespace imprint::ca {

TEST_CASE("the census counts a port's connections in all and per source", "[net]") {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(listen(listener, 64) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  uint16_t port = ntohs(addr.sin_port);
  std::string address = "127.0.0.1:" + std::to_string(port);

  auto census = ConnectionCensus::Open();
  REQUIRE(census);
  auto none = census->Count(port);
  REQUIRE(none);
  CHECK(none->total == 0);

  std::vector<std::unique_ptr<testing::RawSocket>> clients;
  for (int i = 0; i < 5; ++i)
    clients.push_back(std::make_unique<testing::RawSocket>(address, "127.0.0.2"));
  for (int i = 0; i < 3; ++i)
    clients.push_back(std::make_unique<testing::RawSocket>(address, "127.0.0.3"));
  auto counted = census->Count(port);
  REQUIRE(counted);
  // Connected but not yet accepted: the kernel holds them all the same.
  CHECK(counted->total == 8);
  CHECK(counted->per_source["127.0.0.2"] == 5);
  CHECK(counted->per_source["127.0.0.3"] == 3);
  // Another port's connections are not counted.
  auto other = census->Count(static_cast<uint16_t>(port + 1));
  REQUIRE(other);
  CHECK(other->total == 0);
  close(listener);
}

}  // namespace imprint::ca
