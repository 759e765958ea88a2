// Scan-back at the CA (docs/labels.md): BindLabel judges a scanned code against the code the
// device's certificate gives it, audits both answers, and an order that requires labels
// closes only once every verified device has one.
#include <catch2/catch.hpp>

#include "common/label_code.h"
#include "tests/ca/ca_test_util.h"

namespace imprint::testing {
namespace {

namespace v1 = imprint::v1;

grpc::Status Bind(StationClient& station, const std::string& order, const std::string& device,
                  const std::string& code, v1::BindLabelResponse* response) {
  v1::BindLabelRequest request;
  request.set_order_id(order);
  request.set_device_id(device);
  request.set_label_code(code);
  request.set_prints(1);
  grpc::ClientContext context;
  return station.stub().BindLabel(&context, request, response);
}

// A device issued on `order`; verified when `verify`. Returns its label code.
std::string Provision(StationClient& station, const std::string& order, const std::string& device,
                      bool verify) {
  DeviceKey key = DeviceKey::Make();
  IssueCall issued = CallIssue(station.stub(), order, device, key.csr_der);
  REQUIRE(issued.status.ok());
  if (verify) {
    Bytes proof = DeviceProof(key.key.get(), issued.response.challenge());
    REQUIRE(
        CallReport(station.stub(), order, device, issued.response.serial_hex(), true, proof).ok());
  }
  return LabelCode(AsBytes(issued.response.certificate_der()));
}

int64_t AuditCount(const CaFixture& ca, const std::string& event) {
  return QueryInt(ca, "SELECT COUNT(*) FROM audit_log WHERE event = '" + event + "'");
}

void RequireLabels(const CaFixture& ca, const std::string& order) {
  auto db = ca::OpenCaDatabase(ca.config()).value();
  auto update = db->Prepare("UPDATE orders SET require_labels = 1 WHERE id = ?").value();
  update.BindAll(order);
  REQUIRE(update.Run());
}

}  // namespace

TEST_CASE("labels: a scanned code binds only to the device whose certificate gives it") {
  CaFixture ca;
  auto station = StationClient::Enroll(ca, "line-1");
  auto other = StationClient::Enroll(ca, "line-2");
  ca.CreateOrder("PO-L", 10, {"line-1"});
  ca.CreateOrder("PO-X", 10, {"line-2"});
  std::string a = Provision(station, "PO-L", "dev-a", true);
  std::string b = Provision(station, "PO-L", "dev-b", true);
  std::string pending = Provision(station, "PO-L", "dev-pending", false);
  v1::BindLabelResponse response;

  // Refused and audited: B's label on A, a code no label carries, a device not verified, a
  // device the order does not have.
  using Scan = std::pair<std::string, std::string>;
  for (const auto& [device, code] : {Scan{"dev-a", b}, Scan{"dev-a", "IMP1-0000000000000000"},
                                     Scan{"dev-pending", pending}, Scan{"dev-z", a}}) {
    auto status = Bind(station, "PO-L", device, code, &response);
    INFO(device << " " << code << ": " << status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  }
  CHECK(Bind(station, "PO-L", "dev-a", b, &response).error_message() ==
        "label " + b + " is not device dev-a's");
  CHECK(AuditCount(ca, "label.refused") == 5);
  CHECK(AuditCount(ca, "label.bound") == 0);
  CHECK(QueryInt(ca, "SELECT COUNT(*) FROM devices WHERE label_code IS NOT NULL") == 0);

  // Not audited: not a label code (never echoed: it may be a secret read by mistake), a
  // station not on the order.
  auto malformed = Bind(station, "PO-L", "dev-a", "Kp7xQ2mZr9Tw", &response);
  CHECK(malformed.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(malformed.error_message().find("Kp7x") == std::string::npos);
  CHECK(Bind(other, "PO-L", "dev-a", a, &response).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  CHECK(AuditCount(ca, "label.refused") == 5);

  // The match binds once; the same scan again changes nothing.
  REQUIRE(Bind(station, "PO-L", "dev-a", a, &response).ok());
  CHECK_FALSE(response.already());
  uint64_t seq = response.audit_seq();
  REQUIRE(Bind(station, "PO-L", "dev-a", a, &response).ok());
  CHECK(response.already());
  CHECK(response.audit_seq() == seq);
  CHECK(AuditCount(ca, "label.bound") == 1);
  CHECK(QueryInt(ca, "SELECT COUNT(*) FROM devices WHERE device_id = 'dev-a' AND label_code = '" +
                         a + "' AND label_station = 'line-1' AND label_bound_ms > 0") == 1);
}

TEST_CASE("labels: an order that requires them closes only once every verified device has one") {
  CaFixture ca;
  auto station = StationClient::Enroll(ca, "line-1");
  ca.CreateOrder("PO-R", 10, {"line-1"});
  ca.CreateOrder("PO-FREE", 10, {"line-1"});
  RequireLabels(ca, "PO-R");
  std::string a = Provision(station, "PO-R", "dev-1", true);
  std::string b = Provision(station, "PO-R", "dev-2", true);
  Provision(station, "PO-R", "dev-3", false);  // never verified: needs no label
  Provision(station, "PO-FREE", "dev-4", true);

  auto refused = CloseOrder(ca, "PO-R");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == Code::kFailedPrecondition);
  CHECK(refused.error().message().find("2 verified devices have none (dev-1, dev-2)") !=
        std::string::npos);
  v1::BindLabelResponse response;
  REQUIRE(Bind(station, "PO-R", "dev-1", a, &response).ok());
  refused = CloseOrder(ca, "PO-R");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("1 verified device has none (dev-2)") != std::string::npos);
  CHECK(Order(ca, "PO-R").state == ca::OrderState::kOpen);
  CHECK(Order(ca, "PO-R").labels_bound == 1);
  CHECK(Order(ca, "PO-R").require_labels);
  REQUIRE(Bind(station, "PO-R", "dev-2", b, &response).ok());
  REQUIRE(CloseOrder(ca, "PO-R"));
  // Closed: nothing more is bound on it. An order that does not require labels closes at once.
  CHECK(Bind(station, "PO-R", "dev-2", b, &response).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE(CloseOrder(ca, "PO-FREE"));
}

}  // namespace imprint::testing
