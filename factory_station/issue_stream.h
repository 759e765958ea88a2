#pragma once
// IssueStreamClient: the station's issuance requests on one imprint.v1.StationIssuance stream
// (proto/imprint/v1/issue_stream.proto) shared by all of its fixtures' threads, so the CA
// authenticates the station once per stream instead of once per certificate.
//
// Issue() has the unary RPC's shape, so CallWithRetry wraps it as it wraps any call: each call
// waits for its own answer within its context's deadline. A stream that breaks (the CA
// restarted, the network dropped) fails the calls waiting on it with UNAVAILABLE; the retry
// opens a new one. A CA that does not offer the stream answers UNIMPLEMENTED: that call and
// every later one go by IssueDeviceCertificate instead. The CA judges every request as it
// judges the unary call (same exactly-once rules), so a retry after a lost answer is answered
// `already_issued`. A stream refused RESOURCE_EXHAUSTED (the CA's cap on a station's open
// streams) sends that one request by the unary RPC.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "imprint/v1/ca.grpc.pb.h"
#include "imprint/v1/issue_stream.grpc.pb.h"

namespace imprint::station {

class IssueStreamClient {
 public:
  explicit IssueStreamClient(std::shared_ptr<grpc::Channel> channel);
  ~IssueStreamClient();  // cancels the open stream; calls still waiting get CANCELLED

  IssueStreamClient(const IssueStreamClient&) = delete;
  IssueStreamClient& operator=(const IssueStreamClient&) = delete;

  // Before the first Issue: false sends every request by the unary RPC.
  void set_use_stream(bool use) { use_stream_ = use; }

  grpc::Status Issue(grpc::ClientContext& context,
                     const imprint::v1::IssueDeviceCertificateRequest& request,
                     imprint::v1::IssueDeviceCertificateResponse* response);

  // How this client's requests went: over a stream, or unary (the CA did not offer one, or
  // the stream was not asked for). Streams opened counts reconnects.
  uint64_t streamed() const { return streamed_.load(); }
  uint64_t unary() const { return unary_.load(); }
  uint64_t streams_opened() const { return streams_opened_.load(); }

 private:
  struct Pending;
  struct Stream;

  // The open stream, opening one when there is none or the last one ended. Holds mu_.
  std::shared_ptr<Stream> OpenStream();
  void Read(std::shared_ptr<Stream> stream);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<imprint::v1::CertificateAuthority::Stub> unary_stub_;
  std::unique_ptr<imprint::v1::StationIssuance::Stub> stream_stub_;
  std::atomic<bool> use_stream_{true};

  std::mutex mu_;
  std::condition_variable answered_;
  std::shared_ptr<Stream> stream_;  // guarded by mu_
  uint64_t next_id_ = 1;            // guarded by mu_

  std::atomic<uint64_t> streamed_{0};
  std::atomic<uint64_t> unary_{0};
  std::atomic<uint64_t> streams_opened_{0};
};

}  // namespace imprint::station
