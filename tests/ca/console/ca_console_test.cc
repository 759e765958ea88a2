// The console listener's metrics: HTTPS with the CA's TLS identity, the bearer token from a
// 0600 file (none, a wrong one: 401, counted and audited in aggregate), the security headers,
// values that follow what the line did, and the exposition checked by Prometheus's own
// promtool.

#include <httplib.h>

#include <catch2/catch.hpp>
#include <regex>

#include "tests/ca/ca_test_util.h"
#include "tests/support/ca_fixture.h"
#include "tests/support/temp_dir.h"

namespace imprint::testing {
namespace {

const std::string kToken = "0123456789abcdef0123456789abcdef";

CaFixtureOptions ConsoleOptions(const TempDir& dir) {
  WriteFile(dir / "metrics.token", kToken + "\n", 0600);
  CaFixtureOptions options;
  options.extra_toml = "[console]\nlisten = \"127.0.0.1:0\"\nmetrics_token_file = \"" +
                       (dir / "metrics.token").string() + "\"\n";
  return options;
}

std::unique_ptr<httplib::SSLClient> Client(const CaFixture& ca) {
  const std::string& address = const_cast<CaFixture&>(ca).server().console_address();
  size_t colon = address.rfind(':');
  auto client = std::make_unique<httplib::SSLClient>(address.substr(0, colon),
                                                     std::stoi(address.substr(colon + 1)));
  client->set_ca_cert_path(ca.config().ChainPemPath().c_str());
  client->enable_server_certificate_verification(true);
  return client;
}

httplib::Result Get(const CaFixture& ca, const std::string& path, const std::string& token) {
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  return Client(ca)->Get(path.c_str(), headers);
}

// The value of the one sample line that starts with `series` ("name{labels}").
double Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  FAIL("no sample " << series << " in\n" << text);
  return 0;
}

TEST_CASE("metrics are served over HTTPS to the token's bearer and pass promtool", "[console]") {
  TempDir dir;
  CaFixture ca(ConsoleOptions(dir));
  REQUIRE_FALSE(ca.server().console_address().empty());
  StationClient station = StationClient::Enroll(ca, "line-a");
  ca.CreateOrder("PO-1", 3, {"line-a"});
  std::string serial;
  for (const char* id : {"d1", "d2", "d3"}) {
    auto issued = CallIssue(station.stub(), "PO-1", id, DeviceKey::Make().csr_der);
    REQUIRE(issued.status.ok());
    serial = issued.response.serial_hex();
  }
  // A fourth is over quota; d3 fails its checks at the station.
  CHECK(CallIssue(station.stub(), "PO-1", "d4", DeviceKey::Make().csr_der).status.error_code() ==
        grpc::StatusCode::RESOURCE_EXHAUSTED);
  REQUIRE(CallReport(station.stub(), "PO-1", "d3", serial, false).ok());

  auto anonymous = Get(ca, "/metrics", "");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  CHECK(anonymous->get_header_value("WWW-Authenticate").rfind("Bearer", 0) == 0);
  auto wrong = Get(ca, "/metrics", "0123456789abcdef0123456789abcdeX");
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  CHECK(wrong->body.find("imprint_") == std::string::npos);

  auto ok = Get(ca, "/metrics", kToken);
  REQUIRE(ok);
  REQUIRE(ok->status == 200);
  const std::string& text = ok->body;
  CHECK(Sample(text, R"(imprint_certificates_issued_total{order="PO-1",station="line-a"})") == 3);
  CHECK(Sample(text, "imprint_issuance_seconds_count") == 3);
  CHECK(Sample(text, "imprint_hsm_sign_seconds_count") >= 3);
  CHECK(Sample(text, "imprint_hsm_errors_total") == 0);
  CHECK(Sample(text, R"(imprint_failures_total{reason="resource_exhausted"})") == 1);
  CHECK(Sample(text, R"(imprint_failures_total{reason="device_failed"})") == 1);
  CHECK(Sample(text, R"(imprint_order_quota_remaining{order="PO-1"})") == 0);
  CHECK(Sample(text, "imprint_stations_connected") == 1);
  CHECK(Sample(text, "imprint_audit_records") ==
        static_cast<double>(QueryInt(ca, "SELECT MAX(seq) FROM audit_log")));
  CHECK(Sample(text, "imprint_audit_checkpoints") >= 1);
  CHECK(Sample(text, "imprint_hsm_session_recoveries") == 0);

  // Prometheus's own linter.
  WriteFile(dir / "metrics.txt", text, 0644);
  std::string out;
  CHECK(RunCommand("promtool check metrics < " + (dir / "metrics.txt").string() + " 2>&1", &out) ==
        0);
  INFO(out);

  // Headers on every answer; the metrics token opens nothing else.
  for (const auto* res : {&ok.value(), &anonymous.value()}) {
    CHECK(res->get_header_value("Content-Security-Policy").find("default-src 'none'") !=
          std::string::npos);
    CHECK(res->get_header_value("X-Frame-Options") == "DENY");
    CHECK(res->get_header_value("Cache-Control") == "no-store");
  }
  auto other = Get(ca, "/api/v1/orders", kToken);
  REQUIRE(other);
  CHECK(other->status == 401);
  auto missing = Get(ca, "/nothing-here", kToken);
  REQUIRE(missing);
  CHECK(missing->status == 404);

  // The two refusals become one aggregate audit record when the CA stops.
  ca.Stop();
  CHECK(QueryInt(ca,
                 "SELECT COUNT(*) FROM audit_log WHERE event = 'auth.failed' AND detail "
                 "LIKE '%metrics bearer token invalid\":2%'") == 1);
}

TEST_CASE("without a token file there is no /metrics; a short token stops the start", "[console]") {
  TempDir dir;
  CaFixtureOptions options;
  options.extra_toml = "[console]\nlisten = \"127.0.0.1:0\"\n";
  CaFixture ca(options);
  auto res = Get(ca, "/metrics", kToken);
  REQUIRE(res);
  CHECK(res->status == 404);

  WriteFile(dir / "short.token", "tooshort", 0600);
  ca::CaConfig config = ca.config();
  config.metrics_token_file = (dir / "short.token").string();
  ca.Stop();
  auto started = ca::CaServer::Start(config, "127.0.0.1:0", "127.0.0.1:0");
  REQUIRE_FALSE(started.has_value());
  CHECK(started.error().message().find("fewer than 16 characters") != std::string::npos);
  WriteFile(dir / "open.token", kToken, 0644);
  config.metrics_token_file = (dir / "open.token").string();
  started = ca::CaServer::Start(config, "127.0.0.1:0", "127.0.0.1:0");
  REQUIRE_FALSE(started.has_value());  // readable by others: refused like a PIN file
}

}  // namespace
}  // namespace imprint::testing
