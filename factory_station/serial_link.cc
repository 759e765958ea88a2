#include "factory_station/serial_link.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

namespace imprint::station {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint8_t kProtocolVersion = 1;

speed_t SpeedFor(unsigned baud) {
  switch (baud) {
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    case 230400:
      return B230400;
    case 460800:
      return B460800;
    case 921600:
      return B921600;
    default:
      return B0;
  }
}

grpc::Status Unavailable(const std::string& message) {
  return {grpc::StatusCode::UNAVAILABLE, message};
}

}  // namespace

Result<SerialTarget> ParseSerialAddress(const std::string& address) {
  constexpr std::string_view kScheme = "serial:";
  std::string_view rest(address);
  if (!rest.starts_with(kScheme)) return Fail(Code::kInvalidArgument, "not a serial address");
  rest.remove_prefix(kScheme.size());
  SerialTarget target;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view digits = rest.substr(at + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), target.baud);
    if (ec != std::errc() || end != digits.data() + digits.size() || SpeedFor(target.baud) == B0) {
      return Fail(Code::kInvalidArgument,
                  "serial speed must be one of 9600, 19200, 38400, 57600, 115200, 230400, "
                  "460800, 921600");
    }
    rest = rest.substr(0, at);
  }
  if (rest.empty() || rest.front() != '/' || rest.size() > 255 ||
      rest.find('\0') != std::string_view::npos) {
    return Fail(Code::kInvalidArgument, "serial address needs an absolute device path");
  }
  target.path = std::string(rest);
  return target;
}

Result<std::unique_ptr<SerialLink>> SerialLink::Open(const SerialTarget& target,
                                                     const RetryPolicy& retry) {
  int fd = ::open(target.path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return Fail(Code::kUnavailable,
                "serial " + target.path + ": cannot open: " + std::strerror(errno));
  }
  std::unique_ptr<SerialLink> link(new SerialLink(fd, target, retry));
  if (!isatty(fd)) return Fail(Code::kInvalidArgument, "serial " + target.path + ": not a tty");
  // One station per port: a second one would read half of every answer.
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return Fail(Code::kFailedPrecondition, "serial " + target.path + ": in use by another process");
  }
  termios t{};
  if (tcgetattr(fd, &t) != 0) {
    return Fail(Code::kUnavailable,
                "serial " + target.path + ": tcgetattr: " + std::strerror(errno));
  }
  cfmakeraw(&t);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cflag &= ~static_cast<tcflag_t>(CRTSCTS);
  if (target.baud != 0) cfsetspeed(&t, SpeedFor(target.baud));
  if (tcsetattr(fd, TCSANOW, &t) != 0) {
    return Fail(Code::kUnavailable,
                "serial " + target.path + ": tcsetattr: " + std::strerror(errno));
  }
  tcflush(fd, TCIOFLUSH);  // what a previous session left is not an answer to this one
  return link;
}

SerialLink::SerialLink(int fd, SerialTarget target, const RetryPolicy& retry)
    : fd_(fd),
      target_(std::move(target)),
      retry_(retry),
      reader_(serial::kProtocolMaxPayload),
      next_seq_(0) {
  // A new session starts at a random number, so no answer cached by the device from an
  // earlier session can be taken for one of this session's.
  uint8_t seed[2] = {0, 0};
  if (RAND_bytes(seed, sizeof seed) == 1) next_seq_ = static_cast<uint16_t>(seed[0] | seed[1] << 8);
}

SerialLink::~SerialLink() { ::close(fd_); }

std::string SerialLink::Counts() const {
  return std::to_string(bad_crc_) + " with a bad CRC, " + std::to_string(malformed_) +
         " malformed, " + std::to_string(oversize_) + " over the size limit, " +
         std::to_string(other_) + " not the awaited answer";
}

grpc::Status SerialLink::Exchange(const serial::Frame& out, serial::FrameType want,
                                  serial::Frame* in) {
  Bytes wire = serial::EncodeFrame(out);
  // The attempt's time: the timeout, plus both frames' time on the wire at 10 bits a byte
  // (the answer counted as large as the request, at least 2 KiB).
  auto wire_time = std::chrono::milliseconds(0);
  if (target_.baud != 0) {
    size_t bytes = wire.size() + std::max<size_t>(wire.size(), 2048);
    wire_time = std::chrono::milliseconds(bytes * 10 * 1000 / target_.baud);
  }
  for (int attempt = 1; attempt <= retry_.serial_attempts; ++attempt) {
    auto deadline = Clock::now() + retry_.serial_timeout + wire_time;
    // Written within the attempt's time, or the attempt is spent.
    size_t sent = 0;
    while (sent < wire.size() && Clock::now() < deadline) {
      ssize_t n = ::write(fd_, wire.data() + sent, wire.size() - sent);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return Unavailable("serial " + target_.path + ": write: " + std::strerror(errno));
      }
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 20);
    }
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) break;
      uint8_t chunk[4096];
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        // EIO on a pseudo-terminal, 0 on a tty whose device went away: nobody is there.
        return Unavailable("serial " + target_.path + ": the device's end closed" +
                           (n < 0 ? std::string(" (") + std::strerror(errno) + ")" : ""));
      }
      for (ssize_t i = 0; i < n; ++i) {
        std::optional<serial::Discard> discarded;
        auto frame = reader_.Push(chunk[i], &discarded);
        if (discarded == serial::Discard::kBadCrc) ++bad_crc_;
        if (discarded == serial::Discard::kMalformed) ++malformed_;
        if (discarded == serial::Discard::kOversize) ++oversize_;
        if (!frame) continue;
        if (frame->type == want && frame->seq == out.seq) {
          *in = std::move(*frame);
          return grpc::Status::OK;
        }
        ++other_;
      }
    }
  }
  return Unavailable("no answer over serial " + target_.path + " after " +
                     std::to_string(retry_.serial_attempts) + " attempts; the device sent " +
                     Counts());
}

grpc::Status SerialLink::Hello() {
  serial::Frame hello{serial::FrameType::kHello, next_seq_++, 0,
                      Bytes{kProtocolVersion, kProtocolVersion}};
  serial::Frame ack;
  grpc::Status status = Exchange(hello, serial::FrameType::kHelloAck, &ack);
  if (!status.ok()) return status;
  if (ack.code != 0) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "the device refused protocol version 1: " +
                std::string(ack.payload.begin(), ack.payload.end())};
  }
  if (ack.payload.size() < 3 || ack.payload[0] != kProtocolVersion) {
    return {grpc::StatusCode::FAILED_PRECONDITION, "the device's HELLO_ACK is malformed"};
  }
  device_max_request_ = ack.payload[1] | static_cast<size_t>(ack.payload[2]) << 8;
  if (device_max_request_ < 256) {
    return {grpc::StatusCode::FAILED_PRECONDITION, "the device takes requests of only " +
                                                       std::to_string(device_max_request_) +
                                                       " bytes (at least 256 are needed)"};
  }
  return grpc::Status::OK;
}

grpc::Status SerialLink::Call(AgentMethod method, const google::protobuf::Message& request,
                              google::protobuf::Message* response) {
  if (device_max_request_ == 0) {
    grpc::Status hello = Hello();
    if (!hello.ok()) return hello;
  }
  std::string payload;
  if (!request.SerializeToString(&payload)) {
    return {grpc::StatusCode::INTERNAL, "request does not serialize"};
  }
  if (payload.size() > device_max_request_) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "the request (" + std::to_string(payload.size()) + " bytes) is over the device's " +
                std::to_string(device_max_request_) + "-byte limit"};
  }
  serial::Frame out{serial::FrameType::kRequest, next_seq_++, static_cast<uint8_t>(method),
                    Bytes(payload.begin(), payload.end())};
  serial::Frame in;
  grpc::Status status = Exchange(out, serial::FrameType::kResponse, &in);
  if (!status.ok()) return status;
  if (in.code != 0) {
    auto code = in.code <= 16 ? static_cast<grpc::StatusCode>(in.code) : grpc::StatusCode::UNKNOWN;
    return {code, std::string(in.payload.begin(), in.payload.end())};
  }
  if (!response->ParseFromArray(in.payload.data(), static_cast<int>(in.payload.size()))) {
    return {grpc::StatusCode::DATA_LOSS,
            "the device's answer is not a valid " + response->GetTypeName()};
  }
  return grpc::Status::OK;
}

}  // namespace imprint::station
