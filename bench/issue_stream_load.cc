// `imprint-bench issue --rpc stream`: each client is one imprint.v1.StationIssuance stream
// (proto/imprint/v1/issue_stream.proto) keeping `depth` requests in flight, as a station's
// fixtures share its stream. One thread per stream writes the first `depth` requests, then
// writes the next one each time an answer arrives.

#include <atomic>
#include <thread>
#include <unordered_map>

#include "bench/issue_load.h"
#include "imprint/v1/issue_stream.grpc.pb.h"

namespace imprint::bench {
namespace {

namespace v1 = imprint::v1;

Status DriveOne(const std::shared_ptr<grpc::Channel>& channel, const std::string& order,
                std::vector<IssueItem>& items, std::atomic<size_t>& next, int depth,
                Latencies& latencies) {
  auto stub = v1::StationIssuance::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
  auto stream = stub->IssueStream(&context);
  std::unordered_map<uint64_t, Clock::time_point> began;  // by request id = item index
  auto write_next = [&]() -> bool {
    size_t index = next.fetch_add(1);
    if (index >= items.size()) return false;
    v1::IssueStreamRequest request;
    request.set_id(index);
    request.mutable_request()->set_order_id(order);
    request.mutable_request()->set_device_id(items[index].device_id);
    const Bytes& csr = items[index].csr;
    request.mutable_request()->set_csr_der(std::string(csr.begin(), csr.end()));
    began[index] = Clock::now();
    return stream->Write(request);
  };
  for (int i = 0; i < depth && write_next();) ++i;
  v1::IssueStreamResponse answer;
  Status outcome;
  while (!began.empty() && stream->Read(&answer)) {
    auto it = began.find(answer.id());
    if (it == began.end()) {
      outcome = Fail(Code::kInternal, "answer for a request not sent");
      break;
    }
    latencies.Add(Clock::now() - it->second);
    began.erase(it);
    if (answer.code() != 0) {
      outcome = Fail(Code::kInternal,
                     "issue: code " + std::to_string(answer.code()) + ": " + answer.message());
      break;
    }
    IssueItem& item = items[answer.id()];
    item.certificate_der = std::move(*answer.mutable_response()->mutable_certificate_der());
    item.chain_der.assign(answer.response().chain_der().begin(),
                          answer.response().chain_der().end());
    write_next();
  }
  stream->WritesDone();
  if (!outcome) context.TryCancel();  // a failed run does not wait for its other answers
  grpc::Status status = stream->Finish();
  if (!outcome) return outcome;
  if (!began.empty()) {
    return Fail(Code::kUnavailable, "issuance stream ended: " + status.error_message());
  }
  return {};
}

}  // namespace

Status DriveIssuanceStreams(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                            const std::string& order, std::vector<IssueItem>& items, int depth,
                            Latencies& latencies) {
  std::atomic<size_t> next{0};
  std::vector<Status> results(channels.size());
  std::vector<std::thread> threads;
  for (size_t c = 0; c < channels.size(); ++c) {
    threads.emplace_back(
        [&, c] { results[c] = DriveOne(channels[c], order, items, next, depth, latencies); });
  }
  for (auto& t : threads) t.join();
  for (const Status& s : results) IMPRINT_RETURN_IF_ERROR(s);
  return {};
}

}  // namespace imprint::bench
