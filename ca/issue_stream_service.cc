#include "ca/issue_stream_service.h"

#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "ca/auth_failures.h"

namespace imprint::ca {

namespace v1 = imprint::v1;
using Stream = grpc::ServerReaderWriter<v1::IssueStreamResponse, v1::IssueStreamRequest>;

// One stream's requests between the reader (the handler's thread) and its workers.
class StreamWork {
 public:
  StreamWork(CaService& ca, StationPeer peer, grpc::ServerContext& context, Stream& stream)
      : ca_(ca), peer_(std::move(peer)), context_(context), stream_(stream) {}

  // The CA stops: the stream is cancelled once nothing it read waits for an answer.
  void End() {
    std::lock_guard lock(mu_);
    ending_ = true;
    if (in_flight_ == 0) context_.TryCancel();
  }

  ~StreamWork() { Finish(); }

  // Queues one request; waits while kInFlightPerStream are unanswered.
  void Add(v1::IssueStreamRequest request) {
    std::unique_lock lock(mu_);
    room_.wait(lock, [&] { return in_flight_ < IssueStreamService::kInFlightPerStream; });
    ++in_flight_;
    queue_.push_back(std::move(request));
    if (idle_ == 0 && static_cast<int>(workers_.size()) < IssueStreamService::kWorkersPerStream) {
      workers_.emplace_back([this] { Work(); });
    } else {
      ready_.notify_one();
    }
  }

  // Every queued request answered (or its answer refused by a closed stream), workers joined.
  void Finish() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    ready_.notify_all();
    for (auto& worker : workers_) worker.join();
    workers_.clear();
  }

 private:
  void Work() {
    std::unique_lock lock(mu_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [&] { return !queue_.empty() || closing_; });
      --idle_;
      if (queue_.empty()) return;
      v1::IssueStreamRequest request = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      v1::IssueStreamResponse answer = Answer(request);
      {
        std::lock_guard write(write_mu_);
        // A stream the station closed or lost refuses the write; the commit stands, and the
        // station's retry is answered `already_issued`.
        stream_.Write(answer);
      }
      lock.lock();
      --in_flight_;
      room_.notify_one();
      if (ending_ && in_flight_ == 0) context_.TryCancel();
    }
  }

  v1::IssueStreamResponse Answer(const v1::IssueStreamRequest& request) {
    v1::IssueStreamResponse answer;
    answer.set_id(request.id());
    grpc::Status status;
    bool ending;
    {
      std::lock_guard lock(mu_);
      ending = ending_;
    }
    if (ending) {
      status = ca_.Failed(Error(Code::kUnavailable, "the CA is stopping, retry"));
    } else if (std::time(nullptr) > peer_.not_after) {
      status = ca_.Failed(Error(Code::kUnauthenticated, "station certificate expired"));
    } else {
      status =
          ca_.Issue(peer_.name, peer_.cert_serial, request.request(), answer.mutable_response());
    }
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      // Counted like a refused unary call: one aggregated auth.failed record, never a write
      // per request.
      ca_.authority().auth_failures().Record(PeerSource(context_.peer()), status.error_message());
    }
    if (!status.ok()) {
      answer.clear_response();
      answer.set_code(status.error_code());
      answer.set_message(status.error_message());
    }
    return answer;
  }

  CaService& ca_;
  const StationPeer peer_;
  grpc::ServerContext& context_;
  Stream& stream_;
  std::mutex write_mu_;  // one Write at a time on the stream

  std::mutex mu_;
  std::condition_variable ready_;  // a request queued, or closing
  std::condition_variable room_;   // an answer written
  std::deque<v1::IssueStreamRequest> queue_;
  int in_flight_ = 0;  // read and not yet answered
  int idle_ = 0;       // workers waiting for a request
  bool closing_ = false;
  bool ending_ = false;
  std::vector<std::thread> workers_;
};

void IssueStreamService::EndStreams() {
  std::lock_guard lock(mu_);
  ending_ = true;
  for (StreamWork* work : open_) work->End();
}

grpc::Status IssueStreamService::IssueStream(grpc::ServerContext* context, Stream* stream) {
  auto peer = ca_.AuthenticatedPeer(*context);
  if (!peer) return ca_.Failed(peer.error());
  std::string station = peer->name;
  StreamWork work(ca_, std::move(*peer), *context, *stream);
  {
    std::lock_guard lock(mu_);
    if (ending_) return {grpc::StatusCode::UNAVAILABLE, "the CA is stopping, retry"};
    if (per_station_[station] >= kStreamsPerStation) {
      return ca_.Failed(
          Error(Code::kResourceExhausted, "too many issuance streams open for this station"));
    }
    ++per_station_[station];
    open_.insert(&work);
  }
  v1::IssueStreamRequest request;
  while (stream->Read(&request)) {
    work.Add(std::move(request));
    request = v1::IssueStreamRequest();
  }
  work.Finish();
  std::lock_guard lock(mu_);
  open_.erase(&work);
  if (--per_station_[station] == 0) per_station_.erase(station);
  return grpc::Status::OK;
}

}  // namespace imprint::ca
