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
  // The serial link (factory_station/serial_link.h): how long one attempt waits for its
  // answer beyond the time the frames take on the wire, and how many attempts a call makes.
  std::chrono::milliseconds serial_timeout{1000};
  int serial_attempts = 8;
};

// Channel arguments that let each attempt of CallWithRetry reach the peer again. gRPC's own
// reconnect backoff (1 s, growing 1.6x) would otherwise fail the attempts made within it at
// once with the last connect error, so six attempts over 1.5 s were one or two connects: a
// device whose fixture dropped one connect failed although the station had "retried".
// Only the backoff between connects is shortened (gRPC's floor is 100 ms). The minimum
// connect timeout is set apart, to the call deadline: gRPC reads GRPC_ARG_MIN_RECONNECT_BACKOFF_MS
// as the time one connect (TCP, TLS and the peer's HTTP/2 SETTINGS) may take, so setting it to
// the backoff gave a busy CA 100 ms to finish a handshake and no connect ever completed.
inline grpc::ChannelArguments RetryChannelArguments(const RetryPolicy& policy) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(policy.first_backoff.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(policy.max_backoff.count()));
  auto connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(policy.deadline);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(connect_timeout.count()));
  return args;
}

// `call(context)` makes one attempt over `channel` with a fresh ClientContext and returns its
// grpc::Status. After UNAVAILABLE the backoff is spent driving `channel` to connect, not
// asleep: a channel whose connect failed fails new calls at once, and its next connect makes
// progress only while some thread polls the channel, which a sleeping station did not, so a
// reconnect begun in the backoff stalled until gRPC's 5 s backup poll and every retry failed.
template <typename Call>
grpc::Status CallWithRetry(const RetryPolicy& policy, grpc::ChannelInterface& channel,
                           Call&& call) {
  auto backoff = policy.first_backoff;
  grpc::Status status;
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + policy.deadline);
    status = call(context);
    bool unavailable = status.error_code() == grpc::StatusCode::UNAVAILABLE;
    bool retryable = unavailable || status.error_code() == grpc::StatusCode::ABORTED;
    if (status.ok() || !retryable || attempt >= policy.max_attempts) return status;
    // The whole backoff is waited either way: a CA answering UNAVAILABLE over a good
    // connection (its HSM is recovering) gets the same time as before.
    auto until = std::chrono::system_clock::now() + backoff;
    if (unavailable) channel.WaitForConnected(until);
    std::this_thread::sleep_until(until);
    backoff = std::min(backoff * 2, policy.max_backoff);
  }
}

}  // namespace imprint::station
