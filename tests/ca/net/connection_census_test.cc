// ConnectionCensus (ca/net/connection_census.h) against connections the test opens itself.

#include "ca/net/connection_census.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "ca/net/listen_socket.h"
#include "tests/support/raw_socket.h"

namespace imprint::ca {

TEST_CASE("the census counts a port's connections in all and per source", "[net]") {
  auto listener = ListenOn("127.0.0.1:0", {}, "test listener");
  REQUIRE(listener);
  auto port = static_cast<uint16_t>(listener->port);
  std::string address = listener->address;

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
  close(listener->fd);
}

}  // namespace imprint::ca
