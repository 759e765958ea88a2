#pragma once
// Calls an RPC with a deadline and retries UNAVAILABLE and ABORTED with exponential backoff,
// within a bound. Other codes return at once.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>
#include <thread>

namespace imprint::station {

struct RetryPolicy {
  int max_attempts = 6;
  std::chrono::milliseconds first_backoff{50};
  std::chrono::milliseconds max_backoff{1000};
  std::chrono::seconds deadline{15};
};

// Channel arguments that let each attempt of CallWithRetry reach the peer again. gRPC's own
// reconnect backoff (1 s, growing 1.6x) would otherwise fail the attempts made within it at
// once with the last connect error, so six attempts over 1.5 s were one or two connects: a
// device whose fixture dropped one connect failed although the station had "retried".
inline grpc::ChannelArguments RetryChannelArguments(const RetryPolicy& policy) {
  grpc::ChannelArguments args;
  auto first = static_cast<int>(policy.first_backoff.count());
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, first);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, first);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(policy.max_backoff.count()));
  return args;
}

// `call(context)` makes one attempt with a fresh ClientContext and returns its grpc::Status.
template <typename Call>
grpc::Status CallWithRetry(const RetryPolicy& policy, Call&& call) {
  auto backoff = policy.first_backoff;
  grpc::Status status;
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + policy.deadline);
    status = call(context);
    bool retryable = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                     status.error_code() == grpc::StatusCode::ABORTED;
    if (status.ok() || !retryable || attempt >= policy.max_attempts) return status;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, policy.max_backoff);
  }
}

}  // namespace imprint::station
