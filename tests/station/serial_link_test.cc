// The station's end of the serial link (factory_station/serial_link.h) against scripted
// devices on a pseudo-terminal: addresses, the HELLO, retransmission after a lost request,
// answers for other requests ignored, a device's limit respected, and the refusals.
#include "factory_station/serial_link.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <thread>

#include "common/serial/frame.h"
#include "imprint/v1/agent.pb.h"

namespace imprint::station {
namespace {

namespace v1 = imprint::v1;
using serial::Frame;
using serial::FrameType;

// A device the test scripts: `answer` sees each frame the station sent and returns the bytes
// to send back (none: silence).
class ScriptedDevice {
 public:
  explicit ScriptedDevice(std::function<Bytes(const Frame&)> answer) : answer_(std::move(answer)) {
    char name[128];
    termios raw{};
    cfmakeraw(&raw);
    REQUIRE(openpty(&master_, &slave_, name, &raw, nullptr) == 0);
    path_ = name;
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedDevice() {
    stop_ = true;
    thread_.join();
    close(master_);
    close(slave_);
  }
  std::string address() const { return "serial:" + path_; }
  const std::string& path() const { return path_; }
  int requests() const { return requests_.load(); }

 private:
  void Serve() {
    serial::FrameReader reader(serial::kProtocolMaxPayload);
    while (!stop_) {
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      uint8_t chunk[4096];
      ssize_t n = read(master_, chunk, sizeof chunk);
      for (ssize_t i = 0; i < n; ++i) {
        std::optional<serial::Discard> discarded;
        auto frame = reader.Push(chunk[i], &discarded);
        if (!frame) continue;
        if (frame->type == FrameType::kRequest) ++requests_;
        Bytes out = answer_(*frame);
        // No assertion on this thread (Catch2's are not thread-safe): a short write shows as
        // a failed call in the test's own thread.
        if (!out.empty()) (void)!write(master_, out.data(), out.size());
      }
    }
  }

  std::function<Bytes(const Frame&)> answer_;
  int master_ = -1;
  int slave_ = -1;
  std::string path_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

Bytes HelloAck(const Frame& f, uint16_t max_request = 4096) {
  return serial::EncodeFrame(
      {FrameType::kHelloAck, f.seq, 0,
       Bytes{1, static_cast<uint8_t>(max_request & 0xFF), static_cast<uint8_t>(max_request >> 8)}});
}

Bytes Identity(const Frame& f, const std::string& id) {
  v1::DeviceIdentity identity;
  identity.set_hardware_id(id);
  identity.set_state(v1::FACTORY_NEW);
  std::string body = identity.SerializeAsString();
  return serial::EncodeFrame({FrameType::kResponse, f.seq, 0, Bytes(body.begin(), body.end())});
}

// 300 ms an attempt: enough for a scripted device's thread to answer on a loaded machine (at
// 100 ms, four attempts once passed under ASan in CI before it ran), short enough that a case
// that loses an attempt on purpose stays quick.
RetryPolicy Quick() {
  RetryPolicy retry;
  retry.serial_timeout = std::chrono::milliseconds(300);
  retry.serial_attempts = 4;
  return retry;
}

TEST_CASE("serial link: addresses") {
  auto plain = ParseSerialAddress("serial:/dev/ttyUSB0");
  REQUIRE(plain);
  CHECK(plain->path == "/dev/ttyUSB0");
  CHECK(plain->baud == 0);
  auto fast = ParseSerialAddress("serial:/dev/ttyACM1@115200");
  REQUIRE(fast);
  CHECK(fast->path == "/dev/ttyACM1");
  CHECK(fast->baud == 115200);
  for (const char* bad :
       {"serial:", "serial:ttyUSB0", "serial:/dev/ttyUSB0@", "serial:/dev/x@12345",
        "serial:/dev/x@115200x", "serial:/dev/x@-9600", "tty:/dev/ttyUSB0"}) {
    INFO(bad);
    auto parsed = ParseSerialAddress(bad);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code() == Code::kInvalidArgument);
  }
  auto missing = OpenAgentLink("serial:/nonexistent/tty", Quick());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == Code::kUnavailable);
  auto not_tty = OpenAgentLink("serial:/dev/null", Quick());
  REQUIRE_FALSE(not_tty);
  CHECK(not_tty.error().code() == Code::kInvalidArgument);
}

TEST_CASE("serial link: a lost request is sent again, and answers to others are ignored") {
  std::atomic<int> seen{0};
  ScriptedDevice device([&](const Frame& f) -> Bytes {
    if (f.type == FrameType::kHello) return HelloAck(f);
    if (seen++ == 0) return {};  // the first attempt is lost on the way
    // A stale answer (another number) first, then garbage, then the answer.
    Bytes out = Identity({FrameType::kRequest, static_cast<uint16_t>(f.seq - 1), 1, {}}, "old");
    Bytes junk{0x00, 0x03, 0x41, 0x42, 0x00};
    out.insert(out.end(), junk.begin(), junk.end());
    Bytes answer = Identity(f, "mcu-7");
    out.insert(out.end(), answer.begin(), answer.end());
    return out;
  });
  auto link = OpenAgentLink(device.address(), Quick());
  REQUIRE(link);
  v1::DeviceIdentity identity;
  auto status = (*link)->GetIdentity(&identity);
  REQUIRE(status.ok());
  CHECK(identity.hardware_id() == "mcu-7");
  CHECK(device.requests() >= 2);  // more only when this machine took over 300 ms to answer

  // A second station on the same port is refused while the first holds it.
  auto second = OpenAgentLink(device.address(), Quick());
  REQUIRE_FALSE(second);
  CHECK(second.error().code() == Code::kFailedPrecondition);
}

TEST_CASE("serial link: a silent or garbling device fails the call with what it sent") {
  ScriptedDevice device([](const Frame& f) -> Bytes {
    Bytes out = HelloAck(f);
    out[out.size() - 2] ^= 0x10;  // a bad CRC every time
    return out;
  });
  // Every attempt here runs out (no answer is ever good), so fewer, longer ones: the check
  // that the link counted the device's bad CRCs needs one garbled answer read in time.
  RetryPolicy patient = Quick();
  patient.serial_timeout = std::chrono::milliseconds(600);
  patient.serial_attempts = 2;
  auto link = OpenAgentLink(device.address(), patient);
  REQUIRE(link);
  v1::DeviceIdentity identity;
  auto status = (*link)->GetIdentity(&identity);
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(status.error_message().find("after 2 attempts") != std::string::npos);
  CHECK(status.error_message().find(" with a bad CRC") != std::string::npos);
  CHECK(status.error_message().find("sent 0 with a bad CRC") == std::string::npos);
}

TEST_CASE("serial link: the device's limit and its refusals") {
  ScriptedDevice small([](const Frame& f) -> Bytes {
    if (f.type == FrameType::kHello) return HelloAck(f, 300);
    std::string why = "no such thing";
    return serial::EncodeFrame({FrameType::kResponse, f.seq, 9, Bytes(why.begin(), why.end())});
  });
  auto link = OpenAgentLink(small.address(), Quick());
  REQUIRE(link);
  v1::InstallCredentialsRequest big;
  big.set_certificate_der(std::string(400, 'x'));
  v1::InstallCredentialsResponse out;
  auto status = (*link)->InstallCredentials(big, &out);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(status.error_message().find("over the device's 300-byte limit") != std::string::npos);
  CHECK(small.requests() == 0);
  v1::CommitResponse committed;
  status = (*link)->Commit(&committed);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(status.error_message() == "no such thing");

  ScriptedDevice tiny([](const Frame& f) -> Bytes { return HelloAck(f, 100); });
  auto tiny_link = OpenAgentLink(tiny.address(), Quick());
  REQUIRE(tiny_link);
  v1::DeviceIdentity identity;
  status = (*tiny_link)->GetIdentity(&identity);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(status.error_message().find("only 100 bytes") != std::string::npos);
}

}  // namespace
}  // namespace imprint::station
