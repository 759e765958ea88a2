#pragma once
// One C agent (mcu_agent/core) in memory for the tests: a record store that can be made to
// fail, the bytes it sends, and calls made with the station's own framing (common/serial), so
// each case also checks that the two implementations of the serial link agree.

#include <google/protobuf/message.h>

#include <memory>

#include "common/bytes.h"
#include "common/serial/frame.h"
#include "imprint_agent.h"
#include "imprint_crypto_mbedtls.h"

namespace imprint::testing {

struct MemoryRecord {
  Bytes bytes;
  bool present = false;
  int saves = 0;
  int fail_saves = 0;  // this many next saves fail
};

class McuDevice {
 public:
  explicit McuDevice(std::string id = "mcu-test-1", const uint8_t* root_sha256 = nullptr);
  ~McuDevice();

  // (Re)starts the agent from the stored record, as after a reset; its return value.
  int Start();
  // Feeds `wire` and returns what the device sent back.
  Bytes Feed(ByteView wire);
  // One REQUEST with sequence number `seq`; the answer's status, the payload in *payload.
  uint8_t Request(uint8_t method, const google::protobuf::Message& request, uint16_t seq,
                  Bytes* payload);
  // The same, parsing an OK answer into `response`.
  uint8_t Call(uint8_t method, const google::protobuf::Message& request,
               google::protobuf::Message* response, uint16_t seq);
  // The answers in `sent`, decoded by the station's reader.
  static std::vector<serial::Frame> Frames(ByteView sent);

  MemoryRecord& record() { return record_; }
  imprint_agent& agent() { return *agent_; }

 private:
  static void Send(void* ctx, const uint8_t* bytes, size_t len);
  static int Load(void* ctx, uint8_t* buf, size_t cap, size_t* len);
  static int Save(void* ctx, const uint8_t* buf, size_t len);

  std::string id_;
  const uint8_t* root_sha256_;
  MemoryRecord record_;
  Bytes sent_;
  imprint_mbedtls crypto_;
  std::unique_ptr<imprint_agent> agent_;
};

}  // namespace imprint::testing
