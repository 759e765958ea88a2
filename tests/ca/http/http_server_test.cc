// The CA's HTTP listener (ca/http/server.h) against clients that no HTTP library would be:
// each limit of docs/operations.md "HTTP listeners", with a plain socket.

#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "ca/http/server.h"
#include "tests/support/raw_socket.h"

namespace imprint::http {
namespace {

using imprint::testing::HttpStatus;
using imprint::testing::RawSocket;
using namespace std::chrono_literals;

constexpr const char* kResource = "0123456789abcdefghij";

HttpLimits TestLimits() {
  HttpLimits limits;
  limits.max_body_bytes = 1024;
  limits.max_header_bytes = 4096;
  limits.max_headers = 16;
  limits.max_connections = 64;
  limits.max_per_source = 8;
  limits.request_deadline = 1s;
  limits.idle_timeout = 5s;
  limits.threads = 2;
  return limits;
}

struct TestServer {
  Server server;
  std::string address;

  explicit TestServer(const HttpLimits& limits = TestLimits()) {
    server.Get("/thing", [](const Request& req, Response& res) {
      res.SetContent(kResource, "text/plain");
      res.SetHeader("X-Query", req.Query("q"));
    });
    server.Get("/items/{}", [](const Request& req, Response& res) {
      res.SetContent(req.matches[1] + " from " + req.remote_addr, "text/plain");
    });
    server.Get("/rest/{*}", [](const Request& req, Response& res) {
      res.SetContent("rest=" + req.matches[1], "text/plain");
    });
    server.Post("/echo", [](const Request& req, Response& res) {
      res.SetContent(std::to_string(req.body.size()), "text/plain");
    });
    server.SetAfterEach([](Response& res) { res.SetHeader("X-After", "yes"); });
    auto bound = server.Start("127.0.0.1:0", "test.listen", limits);
    REQUIRE(bound);
    address = *bound;
  }

  std::string Ask(const std::string& request, const std::string& source = "") {
    RawSocket s(address, source);
    REQUIRE(s.connected());
    REQUIRE(s.Send(request));
    return s.ReadUntilClosed(3s);
  }
};

std::string Get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra + "\r\n";
}

}  // namespace

TEST_CASE("routes, captures, query, 404 and the after-each hook", "[http]") {
  TestServer t;
  std::string ok = t.Ask(Get("/thing?q=a%20b"));
  CHECK(HttpStatus(ok) == 200);
  CHECK(ok.ends_with(kResource));
  CHECK(ok.find("X-Query: a b\r\n") != std::string::npos);
  CHECK(ok.find("X-After: yes\r\n") != std::string::npos);
  std::string captured = t.Ask(Get("/items/abc"), "127.0.0.2");
  CHECK(captured.ends_with("abc from 127.0.0.2"));
  std::string missing = t.Ask(Get("/items/"));
  CHECK(HttpStatus(missing) == 404);
  CHECK(HttpStatus(t.Ask(Get("/items/abc/def"))) == 404);
  CHECK(HttpStatus(t.Ask(Get("/thingx"))) == 404);
  CHECK(t.Ask(Get("/rest/a/b%2Fc")).ends_with("rest=a/b/c"));
  CHECK(HttpStatus(t.Ask(Get("/rest/"))) == 404);
  CHECK(missing.find("X-After: yes\r\n") != std::string::npos);
  std::string head = t.Ask("HEAD /thing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(HttpStatus(head) == 200);
  CHECK(!head.ends_with(kResource));
  CHECK(HttpStatus(t.Ask("POST /thing HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")) == 404);
}

TEST_CASE("header floods are refused without being kept", "[http]") {
  TestServer t;
  // Bytes: one header line far past the connection's pool, and many lines that add up.
  CHECK(HttpStatus(t.Ask(Get("/thing", "X-Big: " + std::string(100000, 'a') + "\r\n"))) >= 400);
  std::string lines;
  for (int i = 0; i < 2000; ++i) lines += "X-" + std::to_string(i) + ": aaaaaaaaaaaaaaaa\r\n";
  CHECK(HttpStatus(t.Ask(Get("/thing", lines))) >= 400);
  // Count: small headers, too many of them.
  std::string many;
  for (int i = 0; i < 20; ++i) many += "X-" + std::to_string(i) + ": a\r\n";
  CHECK(HttpStatus(t.Ask(Get("/thing", many))) == 431);
  // The listener still answers.
  CHECK(HttpStatus(t.Ask(Get("/thing"))) == 200);
}

TEST_CASE("a body over the limit is 413, announced or chunked", "[http]") {
  TestServer t;
  // Announced: refused from the headers alone, the body never sent.
  std::string announced = t.Ask(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n");
  CHECK(HttpStatus(announced) == 413);
  CHECK(HttpStatus(t.Ask("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\n\r\n")) >= 400);
  // Chunked: the pieces add up past the limit.
  std::string chunked =
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n";
  for (int i = 0; i < 8; ++i) chunked += "200\r\n" + std::string(0x200, 'b') + "\r\n";
  chunked += "0\r\n\r\n";
  CHECK(HttpStatus(t.Ask(chunked)) == 413);
  std::string fits = t.Ask(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  CHECK(fits.ends_with("\r\n\r\n5"));
}

TEST_CASE("a Range header is ignored: the answer is the resource, once", "[http]") {
  TestServer t;
  std::string many = "bytes=0-";
  for (int i = 0; i < 500; ++i) many += ",0-";
  std::string answer = t.Ask(Get("/thing", "Range: " + many + "\r\n"));
  CHECK(HttpStatus(answer) == 200);
  CHECK(answer.ends_with(kResource));
  CHECK(answer.size() < 1000);
}

TEST_CASE("connections are capped per source, and other sources are still served", "[http]") {
  TestServer t;
  std::vector<std::unique_ptr<RawSocket>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<RawSocket>(t.address, "127.0.0.2"));
    REQUIRE(held.back()->connected());
    REQUIRE(held.back()->Send("GET /thing HTTP/1.1\r\n"));  // and never finish
  }
  std::this_thread::sleep_for(100ms);
  RawSocket ninth(t.address, "127.0.0.2");
  CHECK(ninth.ClosedWithin(2s));
  CHECK(HttpStatus(t.Ask(Get("/thing"), "127.0.0.3")) == 200);
}

TEST_CASE("headers that drip or never come are cut at the request deadline", "[http]") {
  TestServer t;  // deadline 1 s
  RawSocket idle(t.address, "127.0.0.4");
  RawSocket drip(t.address, "127.0.0.5");
  REQUIRE(idle.connected());
  REQUIRE(drip.connected());
  std::string request = Get("/thing");
  auto start = std::chrono::steady_clock::now();
  bool cut = false;
  // One byte every 100 ms resets any idle timer; the deadline does not care.
  for (size_t i = 0; i < request.size() - 2 && !cut; ++i) {
    cut = !drip.Send(std::string(1, request[i])) || drip.ClosedWithin(100ms);
  }
  CHECK(cut);
  CHECK(std::chrono::steady_clock::now() - start < 4s);
  CHECK(idle.ClosedWithin(1s));
  // A kept-alive connection gets a new deadline for each request.
  RawSocket kept(t.address, "127.0.0.6");
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(600ms);
    REQUIRE(kept.Send("GET /thing HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  std::string three = kept.ReadUntilClosed(3s);
  size_t answers = 0;
  for (size_t at = three.find("HTTP/1.1 200"); at != std::string::npos;
       at = three.find("HTTP/1.1 200", at + 1)) {
    ++answers;
  }
  CHECK(answers == 3);
}

TEST_CASE("Stop returns at once whatever the clients do", "[http]") {
  auto t = std::make_unique<TestServer>();
  std::vector<std::unique_ptr<RawSocket>> slow;
  for (int i = 0; i < 6; ++i) {
    slow.push_back(std::make_unique<RawSocket>(t->address, "127.0.0.7"));
    slow.back()->Send("GET /thing HTTP/1.1\r\nHost:");
  }
  auto start = std::chrono::steady_clock::now();
  t->server.Stop();
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  for (auto& s : slow) CHECK(s->ClosedWithin(1s));
}

TEST_CASE("a malformed or unbindable address is refused", "[http]") {
  Server s;
  CHECK(s.Start("127.0.0.1", "x.listen", TestLimits()).error().code() == Code::kInvalidArgument);
  CHECK(s.Start("127.0.0.1:8x", "x.listen", TestLimits()).error().code() == Code::kInvalidArgument);
  CHECK(s.Start("192.0.2.1:0", "x.listen", TestLimits()).error().code() == Code::kUnavailable);
}

}  // namespace imprint::http
