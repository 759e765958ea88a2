// Offline allowances at the CA (ca/allowance): `allowance grant|show|revoke` through the real
// imprint-ca beside a serving CA. A grant takes its count from the order's quota at once, so
// online issuance sees only the remainder; a revocation gives back what was not used. Bad
// grants are refused and change nothing.

#include <catch2/catch.hpp>
#include <string>

#include "tests/ca/ca_test_util.h"
#include "tests/support/ca_fixture.h"

namespace imprint::testing {
namespace {

struct Books {
  CaFixture ca;
  StationClient line = StationClient::Enroll(ca, "line-1");
  StationClient cm = StationClient::Enroll(ca, "cm-line-3");

  Books() { ca.CreateOrder("PO-1", 10, {"line-1", "cm-line-3"}); }
  int Cli(const std::string& args, std::string* out) const { return RunCaCli(ca, args, out); }
  int64_t Count(const std::string& query) const { return QueryInt(ca, query); }
  grpc::Status IssueOnline(const std::string& device) {
    DeviceKey key = DeviceKey::Make();
    return CallIssue(line.stub(), "PO-1", device, key.csr_der).status;
  }
};

TEST_CASE("a grant takes its count from the quota, and online issuance gets the rest",
          "[allowance]") {
  Books b;
  REQUIRE(b.IssueOnline("d1").ok());
  std::string out;
  REQUIRE(b.Cli("allowance grant --order PO-1 --station cm-line-3 --count 6 --valid-for 72h",
                &out) == 0);
  CHECK(out.find("granted: order PO-1, station cm-line-3, 6 certificates until ") !=
        std::string::npos);
  ca::OrderStatus order = Order(b.ca, "PO-1");
  CHECK(order.issued == 1);
  CHECK(order.reserved == 6);
  REQUIRE(b.Cli("order show --id PO-1", &out) == 0);
  CHECK(out.find("\nreserved 6\n") != std::string::npos);

  // 10 - 1 issued - 6 reserved: three more online, then the quota is spent.
  for (const char* device : {"d2", "d3", "d4"}) REQUIRE(b.IssueOnline(device).ok());
  grpc::Status over = b.IssueOnline("d5");
  CHECK(over.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(over.error_message() == "order quota used up");

  REQUIRE(b.Cli("allowance show --order PO-1", &out) == 0);
  CHECK(out.find("order PO-1 station cm-line-3 status granted granted 6 used 0 outstanding 6") !=
        std::string::npos);
  CHECK(b.Count("SELECT count(*) FROM audit_log WHERE event = 'allowance.granted'") == 1);

  // Revoked: the six come back to the order, and online issuance may use them.
  REQUIRE(b.Cli("allowance revoke --order PO-1 --station cm-line-3 --reason 'line moved'", &out) ==
          0);
  CHECK(out.find("revoked; 6 unused certificates returned to order PO-1") != std::string::npos);
  CHECK(Order(b.ca, "PO-1").reserved == 0);
  CHECK(b.IssueOnline("d5").ok());
  REQUIRE(b.Cli("allowance show", &out) == 0);
  CHECK(out.find("status revoked granted 6 used 0 outstanding 0") != std::string::npos);
  CHECK(b.Count("SELECT count(*) FROM audit_log WHERE event = 'allowance.revoked' AND "
                "detail LIKE '%line moved%'") == 1);
  // A second revoke finds nothing live; a new grant may follow the revoked one.
  CHECK(b.Cli("allowance revoke --order PO-1 --station cm-line-3 --reason again", &out) == 1);
  CHECK(out.find("NOT_FOUND: station cm-line-3 holds no live allowance for order PO-1") !=
        std::string::npos);
  CHECK(b.Cli("allowance grant --order PO-1 --station cm-line-3 --count 5 --valid-for 1h", &out) ==
        0);
  CHECK(Order(b.ca, "PO-1").reserved == 5);
  REQUIRE(b.Cli("audit verify", &out) == 0);
}

TEST_CASE("grants the order cannot bear, or that name the wrong things, change nothing",
          "[allowance]") {
  Books b;
  b.ca.AddStation("idle");  // exists, never enrolled, not on the order
  b.ca.CreateOrder("PO-2", 3, {"line-1"});
  REQUIRE(CloseOrder(b.ca, "PO-2").has_value());
  struct Case {
    const char* args;
    int exit_code;
    const char* says;
  };
  const Case cases[] = {
      {"--order PO-1 --station cm-line-3 --count 11 --valid-for 72h", 1,
       "RESOURCE_EXHAUSTED: order PO-1 has 10 certificates left; cannot grant 11"},
      {"--order PO-1 --station cm-line-3 --count 0 --valid-for 72h", 1,
       "INVALID_ARGUMENT: an allowance's count must be positive"},
      {"--order PO-1 --station cm-line-3 --count 5 --valid-for 32d", 1, "at most 31d"},
      {"--order PO-1 --station cm-line-3 --count 5 --valid-for 72", 1, "--valid-for must be"},
      {"--order PO-1 --station cm-line-3 --count 5 --valid-for -1h", 1, "--valid-for must be"},
      {"--order PO-9 --station cm-line-3 --count 5 --valid-for 1h", 1,
       "NOT_FOUND: unknown order PO-9"},
      {"--order PO-1 --station nobody --count 5 --valid-for 1h", 1,
       "NOT_FOUND: unknown station nobody"},
      {"--order PO-1 --station idle --count 5 --valid-for 1h", 1,
       "FAILED_PRECONDITION: station idle is not on order PO-1"},
      {"--order PO-2 --station line-1 --count 1 --valid-for 1h", 1,
       "FAILED_PRECONDITION: order PO-2 is closed"},
      {"--order 'PO 1' --station cm-line-3 --count 5 --valid-for 1h", 1,
       "INVALID_ARGUMENT: order id and station name"},
  };
  std::string out;
  for (const Case& c : cases) {
    INFO(c.args);
    CHECK(b.Cli(std::string("allowance grant ") + c.args, &out) == c.exit_code);
    INFO(out);
    CHECK(out.find(c.says) != std::string::npos);
  }
  CHECK(Order(b.ca, "PO-1").reserved == 0);
  CHECK(b.Count("SELECT count(*) FROM allowances") == 0);
  CHECK(b.Count("SELECT count(*) FROM audit_log WHERE event LIKE 'allowance.%'") == 0);

  // One live allowance per order and station; a revoked station cannot receive one.
  REQUIRE(b.Cli("allowance grant --order PO-1 --station cm-line-3 --count 4 --valid-for 1h",
                &out) == 0);
  CHECK(b.Cli("allowance grant --order PO-1 --station cm-line-3 --count 1 --valid-for 1h", &out) ==
        1);
  CHECK(out.find("ALREADY_EXISTS: station cm-line-3 already holds a live allowance") !=
        std::string::npos);
  REQUIRE(b.Cli("station revoke line-1", &out) == 0);
  CHECK(b.Cli("allowance grant --order PO-1 --station line-1 --count 1 --valid-for 1h", &out) == 1);
  CHECK(out.find("FAILED_PRECONDITION: station line-1 is revoked, not active") !=
        std::string::npos);
  // A reason with a control character (it would go into the audit log) is refused.
  CHECK(
      b.Cli("allowance revoke --order PO-1 --station cm-line-3 --reason \"$(printf 'a\\033[2Jb')\"",
            &out) == 1);
  CHECK(out.find("the reason must be 1-200 printable characters") != std::string::npos);
  CHECK(Order(b.ca, "PO-1").reserved == 4);
}

}  // namespace
}  // namespace imprint::testing
