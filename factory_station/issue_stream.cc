#include "factory_station/issue_stream.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace imprint::station {

namespace v1 = imprint::v1;

struct IssueStreamClient::Pending {
  std::condition_variable cv;  // with mu_
  bool done = false;
  bool stream_failed = false;  // the stream ended before this request's answer
  grpc::Status status;
  v1::IssueDeviceCertificateResponse response;
};

struct IssueStreamClient::Stream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<v1::IssueStreamRequest, v1::IssueStreamResponse>> rw;
  std::thread reader;
  std::mutex write_mu;    // one Write at a time; Finish after the last
  bool finished = false;  // guarded by write_mu: Finish was called, no more writes
  std::map<uint64_t, std::shared_ptr<Pending>> pending;  // guarded by the client's mu_
  bool ended = false;                                    // guarded by the client's mu_
};

namespace {

// An answer's code as the CA sent it, held to the codes gRPC defines.
grpc::Status AnswerStatus(const v1::IssueStreamResponse& answer) {
  int code = answer.code();
  if (code == 0) {
    if (!answer.has_response()) return {grpc::StatusCode::INTERNAL, "empty issuance answer"};
    return grpc::Status::OK;
  }
  if (code < 1 || code > 16) return {grpc::StatusCode::UNKNOWN, answer.message()};
  return {static_cast<grpc::StatusCode>(code), answer.message()};
}

}  // namespace

IssueStreamClient::IssueStreamClient(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)),
      unary_stub_(v1::CertificateAuthority::NewStub(channel_)),
      stream_stub_(v1::StationIssuance::NewStub(channel_)) {}

IssueStreamClient::~IssueStreamClient() {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mu_);
    stream = stream_;
  }
  if (!stream) return;
  stream->context.TryCancel();
  if (stream->reader.joinable()) stream->reader.join();
}

std::shared_ptr<IssueStreamClient::Stream> IssueStreamClient::OpenStream() {
  if (stream_ && !stream_->ended) return stream_;
  // The reader of an ended stream has nothing left to do but return.
  if (stream_ && stream_->reader.joinable()) stream_->reader.join();
  auto stream = std::make_shared<Stream>();
  // Metadata leaves with the first request, so opening never waits on the network under mu_.
  stream->context.set_initial_metadata_corked(true);
  stream->rw = stream_stub_->IssueStream(&stream->context);
  stream->reader = std::thread([this, stream] { Read(stream); });
  stream_ = stream;
  ++streams_opened_;
  return stream;
}

void IssueStreamClient::Read(std::shared_ptr<Stream> stream) {
  v1::IssueStreamResponse answer;
  while (stream->rw->Read(&answer)) {
    std::lock_guard lock(mu_);
    auto it = stream->pending.find(answer.id());
    // An answer nobody waits for (its call gave up at its deadline) is dropped.
    if (it != stream->pending.end()) {
      Pending& p = *it->second;
      p.status = AnswerStatus(answer);
      if (p.status.ok()) p.response = std::move(*answer.mutable_response());
      p.done = true;
      p.cv.notify_one();
      stream->pending.erase(it);
    }
    answer.Clear();
  }
  grpc::Status status;
  {
    std::lock_guard write(stream->write_mu);
    status = stream->rw->Finish();
    stream->finished = true;
  }
  if (status.ok()) status = {grpc::StatusCode::UNAVAILABLE, "the CA closed the issuance stream"};
  std::lock_guard lock(mu_);
  for (auto& [id, p] : stream->pending) {
    p->status = status;
    p->stream_failed = true;
    p->done = true;
    p->cv.notify_one();
  }
  stream->pending.clear();
  stream->ended = true;  // last: OpenStream may join this thread once it sees it
}

grpc::Status IssueStreamClient::Issue(grpc::ClientContext& context,
                                      const v1::IssueDeviceCertificateRequest& request,
                                      v1::IssueDeviceCertificateResponse* response) {
  if (!use_stream_.load()) {
    ++unary_;
    return unary_stub_->IssueDeviceCertificate(&context, request, response);
  }
  auto pending = std::make_shared<Pending>();
  std::shared_ptr<Stream> stream;
  v1::IssueStreamRequest message;
  {
    std::lock_guard lock(mu_);
    stream = OpenStream();
    message.set_id(next_id_++);
    stream->pending[message.id()] = pending;
  }
  *message.mutable_request() = request;
  {
    // A write the stream refuses is not an answer: its reader ends the stream and fails this
    // request with the stream's status.
    std::lock_guard write(stream->write_mu);
    if (!stream->finished) stream->rw->Write(message);
  }
  // A context without a deadline waits an hour at most (the station always sets one).
  auto deadline =
      std::min(context.deadline(), std::chrono::system_clock::now() + std::chrono::hours(1));
  std::unique_lock lock(mu_);
  if (!pending->cv.wait_until(lock, deadline, [&] { return pending->done; })) {
    stream->pending.erase(message.id());
    return {grpc::StatusCode::DEADLINE_EXCEEDED, "no answer on the issuance stream in time"};
  }
  grpc::StatusCode refused = pending->status.error_code();
  if (pending->stream_failed && (refused == grpc::StatusCode::UNIMPLEMENTED ||
                                 refused == grpc::StatusCode::RESOURCE_EXHAUSTED)) {
    // UNIMPLEMENTED: this CA does not offer the stream, this request and every later one go
    // unary. RESOURCE_EXHAUSTED: the CA still counts streams of this station it has not yet
    // found dead (keepalive finds them); this request goes unary, the next tries a stream.
    if (refused == grpc::StatusCode::UNIMPLEMENTED) use_stream_ = false;
    lock.unlock();
    ++unary_;
    return unary_stub_->IssueDeviceCertificate(&context, request, response);
  }
  if (pending->status.ok()) {
    *response = std::move(pending->response);
    ++streamed_;
  }
  return pending->status;
}

}  // namespace imprint::station
