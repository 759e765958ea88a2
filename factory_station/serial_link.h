#pragma once
// SerialLink: the agent protocol over a serial port (docs/agent-protocol.md, "The serial
// link"). A HELLO agrees the version and learns the device's largest request; then each call
// is a REQUEST frame with a new sequence number, sent again after a silent attempt, until the
// RESPONSE with that number arrives. A device that answers garbage, oversize frames, a byte at
// a time or not at all fails this call alone within attempts x (timeout + wire time), with the
// counts of what it sent in the error.

#include <cstdint>
#include <memory>
#include <string>

#include "common/serial/frame.h"
#include "factory_station/agent_link.h"

namespace imprint::station {

struct SerialTarget {
  std::string path;
  unsigned baud = 0;  // 0: leave the port's speed (pseudo-terminals have none)
};

// "serial:/dev/ttyUSB0" or "serial:/dev/ttyUSB0@115200"; INVALID_ARGUMENT otherwise.
Result<SerialTarget> ParseSerialAddress(const std::string& address);

class SerialLink final : public AgentLink {
 public:
  // Opens the port raw (8N1, no flow control) and locks it against another station.
  static Result<std::unique_ptr<SerialLink>> Open(const SerialTarget& target,
                                                  const RetryPolicy& retry);
  ~SerialLink() override;
  SerialLink(const SerialLink&) = delete;
  SerialLink& operator=(const SerialLink&) = delete;

 protected:
  grpc::Status Call(AgentMethod method, const google::protobuf::Message& request,
                    google::protobuf::Message* response) override;

 private:
  SerialLink(int fd, SerialTarget target, const RetryPolicy& retry);
  grpc::Status Hello();
  // Sends `out` until a frame of type `want` with its sequence number arrives.
  grpc::Status Exchange(const serial::Frame& out, serial::FrameType want, serial::Frame* in);
  std::string Counts() const;

  int fd_;
  SerialTarget target_;
  RetryPolicy retry_;
  serial::FrameReader reader_;
  uint16_t next_seq_;
  size_t device_max_request_ = 0;  // from HELLO_ACK; 0 before it
  // What the device sent that answered nothing, for the error that ends a silent call.
  unsigned bad_crc_ = 0;
  unsigned malformed_ = 0;
  unsigned oversize_ = 0;
  unsigned other_ = 0;  // whole frames for another request or of another type
};

}  // namespace imprint::station
