// The CA, not the station, decides what a device is: "verified" needs a proof the CA checks
// over its own challenge, a failed device stays failed until an audited reset, a device in
// progress belongs to its station, and a closed order takes no more secrets or reports.

#include <catch2/catch.hpp>

#include "ca/admin_cli.h"
#include "ca/store/store.h"
#include "tests/ca/ca_test_util.h"
#include "tests/support/ca_fixture.h"

namespace imprint::testing {
namespace {

using grpc::StatusCode;

std::string Status(const CaFixture& ca, const std::string& device) {
  auto db = ca::OpenCaDatabase(ca.config()).value();
  auto stmt = db->Prepare("SELECT status FROM devices WHERE device_id = ?").value();
  stmt.BindAll(device);
  REQUIRE(stmt.Step().value());
  return stmt.ColumnText(0);
}

int64_t Count(const CaFixture& ca, const std::string& event) {
  auto db = ca::OpenCaDatabase(ca.config()).value();
  auto stmt = db->Prepare("SELECT count(*) FROM audit_log WHERE event = ?").value();
  stmt.BindAll(event);
  REQUIRE(stmt.Step().value());
  return stmt.ColumnInt64(0);
}

imprint::v1::DeviceRecord Record(StationClient& station, const std::string& device,
                                 grpc::Status* status) {
  imprint::v1::GetDeviceRecordRequest request;
  request.set_device_id(device);
  imprint::v1::DeviceRecord record;
  grpc::ClientContext context;
  *status = station.stub().GetDeviceRecord(&context, request, &record);
  return record;
}

// A CA with station line-1 on order PO-1, and device dev-1 issued there.
struct OneDevice {
  CaFixture ca;
  StationClient station = StationClient::Enroll(ca, "line-1");
  DeviceKey device = DeviceKey::Make();
  IssueCall issued;
  OneDevice() {
    ca.CreateOrder("PO-1", 5, {"line-1"});
    issued = CallIssue(station.stub(), "PO-1", "dev-1", device.csr_der);
    REQUIRE(issued.status.ok());
  }
};

TEST_CASE("a device is verified only by a proof the CA checks over its own challenge", "[ca]") {
  OneDevice one;
  auto& [ca, station, device, issued] = one;
  REQUIRE(issued.response.challenge().size() == 32);
  std::string serial = issued.response.serial_hex();

  // The station's word alone, or a proof by another key, is not enough: the device fails.
  SECTION("no proof") {
    CHECK(CallReport(station.stub(), "PO-1", "dev-1", serial, true).error_code() ==
          StatusCode::INVALID_ARGUMENT);
  }
  SECTION("a proof by another key") {
    DeviceKey other = DeviceKey::Make();
    CHECK(CallReport(station.stub(), "PO-1", "dev-1", serial, true,
                     DeviceProof(other.key.get(), issued.response.challenge()))
              .error_code() == StatusCode::INVALID_ARGUMENT);
  }
  SECTION("a proof over another challenge") {
    CHECK(CallReport(station.stub(), "PO-1", "dev-1", serial, true,
                     DeviceProof(device.key.get(), std::string(32, 'x')))
              .error_code() == StatusCode::INVALID_ARGUMENT);
  }
  CHECK(Status(ca, "dev-1") == "failed");
  CHECK(Order(ca, "PO-1").verified == 0);

  // Failed stays failed: the right proof now, secrets, issuance again all refused.
  Bytes good = DeviceProof(device.key.get(), issued.response.challenge());
  CHECK(CallReport(station.stub(), "PO-1", "dev-1", serial, true, good).error_code() ==
        StatusCode::FAILED_PRECONDITION);
  imprint::v1::IssueDeviceSecretsResponse secrets;
  CHECK(CallSecrets(station.stub(), "PO-1", "dev-1", &secrets).error_code() ==
        StatusCode::FAILED_PRECONDITION);
  CHECK(CallIssue(station.stub(), "PO-1", "dev-1", device.csr_der).status.error_code() ==
        StatusCode::FAILED_PRECONDITION);
  grpc::Status looked;
  CHECK(Record(station, "dev-1", &looked).status() == "failed");

  // Until an operator resets it (audited); then the same key and challenge verify.
  REQUIRE(ca::DeviceResetCommand(ca.config(), "dev-1").has_value());
  CHECK(Count(ca, "device.reset") == 1);
  auto again = CallIssue(station.stub(), "PO-1", "dev-1", device.csr_der);
  REQUIRE(again.status.ok());
  CHECK(again.response.already_issued());
  CHECK(again.response.challenge() == issued.response.challenge());
  REQUIRE(CallReport(station.stub(), "PO-1", "dev-1", serial, true, good).ok());
  CHECK(Status(ca, "dev-1") == "verified");
  CHECK(Order(ca, "PO-1").verified == 1);
  CHECK(ca::DeviceResetCommand(ca.config(), "dev-1").error().code() == Code::kFailedPrecondition);
  CHECK(ca::DeviceResetCommand(ca.config(), "nobody").error().code() == Code::kNotFound);
}

TEST_CASE("a device in progress belongs to its station until verified or reset", "[ca]") {
  CaFixture ca;
  auto a = StationClient::Enroll(ca, "line-a");
  auto b = StationClient::Enroll(ca, "line-b");
  ca.CreateOrder("PO-1", 5, {"line-a", "line-b"});
  DeviceKey device = DeviceKey::Make();
  auto issued = CallIssue(a.stub(), "PO-1", "dev-1", device.csr_der);
  REQUIRE(issued.status.ok());
  std::string serial = issued.response.serial_hex();
  Bytes proof = DeviceProof(device.key.get(), issued.response.challenge());

  imprint::v1::IssueDeviceSecretsResponse secrets;
  CHECK(CallSecrets(b.stub(), "PO-1", "dev-1", &secrets).error_code() ==
        StatusCode::PERMISSION_DENIED);
  CHECK(CallIssue(b.stub(), "PO-1", "dev-1", device.csr_der).status.error_code() ==
        StatusCode::PERMISSION_DENIED);
  CHECK(CallReport(b.stub(), "PO-1", "dev-1", serial, true, proof).error_code() ==
        StatusCode::PERMISSION_DENIED);
  CHECK(CallReport(b.stub(), "PO-1", "dev-1", serial, false).error_code() ==
        StatusCode::PERMISSION_DENIED);
  CHECK(Status(ca, "dev-1") == "issued");
  REQUIRE(CallSecrets(a.stub(), "PO-1", "dev-1", &secrets).ok());

  // Station A died; the operator releases the device and B takes it over.
  REQUIRE(ca::DeviceResetCommand(ca.config(), "dev-1").has_value());
  REQUIRE(CallIssue(b.stub(), "PO-1", "dev-1", device.csr_der).status.ok());
  CHECK(Count(ca, "device.claimed") == 1);
  CHECK(CallSecrets(a.stub(), "PO-1", "dev-1", &secrets).error_code() ==
        StatusCode::PERMISSION_DENIED);
  REQUIRE(CallReport(b.stub(), "PO-1", "dev-1", serial, true, proof).ok());
  CHECK(Status(ca, "dev-1") == "verified");
}

TEST_CASE("a closed order takes no more secrets or reports; records are there to look up", "[ca]") {
  OneDevice one;
  auto& [ca, station, device, issued] = one;

  grpc::Status looked;
  auto record = Record(station, "dev-1", &looked);
  REQUIRE(looked.ok());
  CHECK(record.order_id() == "PO-1");
  CHECK(record.status() == "issued");
  CHECK(record.certificate_der() == issued.response.certificate_der());
  CHECK(record.challenge() == issued.response.challenge());
  Record(station, "dev-404", &looked);
  CHECK(looked.error_code() == StatusCode::NOT_FOUND);

  REQUIRE(CloseOrder(ca, "PO-1").has_value());
  imprint::v1::IssueDeviceSecretsResponse secrets;
  CHECK(CallSecrets(station.stub(), "PO-1", "dev-1", &secrets).error_code() ==
        StatusCode::FAILED_PRECONDITION);
  CHECK(CallReport(station.stub(), "PO-1", "dev-1", issued.response.serial_hex(), true,
                   DeviceProof(device.key.get(), issued.response.challenge()))
            .error_code() == StatusCode::FAILED_PRECONDITION);
  CHECK(Status(ca, "dev-1") == "issued");
}

}  // namespace
}  // namespace imprint::testing
