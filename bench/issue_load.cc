#include "bench/issue_load.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "common/rpc/status.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::bench {
namespace {

namespace v1 = imprint::v1;

// What all clients share: the work queue, the count of clients still running, the first error.
struct Shared {
  Shared(std::vector<IssueItem>& i, const std::string& o, Latencies& l)
      : items(i), order(o), latencies(l) {}
  std::vector<IssueItem>& items;
  const std::string& order;
  Latencies& latencies;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable all_done;
  int running = 0;             // guarded by mu
  std::optional<Error> error;  // guarded by mu
};

// One client: a call in flight at a time. A finished call is kept until the next one
// finishes, so nothing a call uses is destroyed inside its own completion.
class Client {
 public:
  Client(std::shared_ptr<grpc::Channel> channel, Shared& shared)
      : stub_(v1::CertificateAuthority::NewStub(std::move(channel))), shared_(shared) {}

  void StartNext() {
    size_t index = shared_.next.fetch_add(1);
    if (index >= shared_.items.size()) return Stop(std::nullopt);
    auto call = std::make_unique<Call>();
    call->index = index;
    call->request.set_order_id(shared_.order);
    call->request.set_device_id(shared_.items[index].device_id);
    const Bytes& csr = shared_.items[index].csr;
    call->request.set_csr_der(std::string(csr.begin(), csr.end()));
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    call->began = Clock::now();
    Call* raw = call.get();
    current_ = std::move(call);
    stub_->async()->IssueDeviceCertificate(&raw->context, &raw->request, &raw->response,
                                           [this, raw](grpc::Status status) { Done(raw, status); });
  }

 private:
  struct Call {
    size_t index = 0;
    grpc::ClientContext context;
    v1::IssueDeviceCertificateRequest request;
    v1::IssueDeviceCertificateResponse response;
    Clock::time_point began;
  };

  void Done(Call* call, const grpc::Status& status) {
    shared_.latencies.Add(Clock::now() - call->began);
    if (!status.ok()) return Stop(rpc::FromGrpcStatus(status));
    IssueItem& item = shared_.items[call->index];
    item.certificate_der = std::move(*call->response.mutable_certificate_der());
    item.chain_der.assign(call->response.chain_der().begin(), call->response.chain_der().end());
    previous_ = std::move(current_);
    StartNext();
  }

  void Stop(std::optional<Error> error) {
    std::lock_guard lock(shared_.mu);
    if (error && !shared_.error) shared_.error = std::move(error);
    if (--shared_.running == 0) shared_.all_done.notify_all();
  }

  std::unique_ptr<v1::CertificateAuthority::Stub> stub_;
  Shared& shared_;
  std::unique_ptr<Call> current_;
  std::unique_ptr<Call> previous_;
};

}  // namespace

Status DriveIssuance(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                     const std::string& order, std::vector<IssueItem>& items,
                     Latencies& latencies) {
  Shared shared(items, order, latencies);
  std::vector<std::unique_ptr<Client>> clients;
  for (const auto& channel : channels) clients.push_back(std::make_unique<Client>(channel, shared));
  shared.running = static_cast<int>(clients.size());
  for (auto& client : clients) client->StartNext();
  std::unique_lock lock(shared.mu);
  shared.all_done.wait(lock, [&] { return shared.running == 0; });
  if (shared.error) return std::unexpected(*shared.error);
  return {};
}

}  // namespace imprint::bench
