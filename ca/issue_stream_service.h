#pragma once
// IssueStreamService: imprint.v1.StationIssuance on the station listener
// (proto/imprint/v1/issue_stream.proto). A station's requests arrive on one stream,
// authenticated once when it opens; each is judged by CaService::Issue exactly as the unary
// RPC judges it, with the station's certificate checked per request (its validity here, its
// status with the issuance facts), and its answer written as soon as its commit lands.
//
// A stream's requests run on workers of its own, started as requests wait (at most
// kWorkersPerStream); at most kInFlightPerStream are read ahead of their answers, so a station
// that sends without reading answers stops being read, not the CA. A station holds at most
// kStreamsPerStation open streams (a station needs one; a reconnect may briefly hold two), so
// one station cannot take the CA's threads with streams; more are RESOURCE_EXHAUSTED.

#include <grpcpp/grpcpp.h>

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "ca/service.h"
#include "imprint/v1/issue_stream.grpc.pb.h"

namespace imprint::ca {

class StreamWork;

class IssueStreamService final : public imprint::v1::StationIssuance::Service {
 public:
  static constexpr int kWorkersPerStream = 16;
  static constexpr int kInFlightPerStream = 64;
  static constexpr int kStreamsPerStation = 4;

  explicit IssueStreamService(CaService& ca) : ca_(ca) {}

  // At the CA's stop, before its servers drain: each open stream ends once the requests it
  // holds are answered (at once when it holds none), instead of holding the stop for the
  // servers' whole drain time. Later requests on them are answered UNAVAILABLE.
  void EndStreams();

  grpc::Status IssueStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<imprint::v1::IssueStreamResponse, imprint::v1::IssueStreamRequest>*
          stream) override;

 private:
  CaService& ca_;
  std::mutex mu_;
  bool ending_ = false;                     // guarded by mu_
  std::set<StreamWork*> open_;              // guarded by mu_
  std::map<std::string, int> per_station_;  // open streams by station name; guarded by mu_
};

}  // namespace imprint::ca
