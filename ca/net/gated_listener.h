#pragma once
// GatedListener: a gRPC listener whose connections the CA accepts itself and hands to gRPC
// (ServerBuilder::experimental().AddExternalConnectionAcceptor), so that (issue 26 finding 8):
// - a connection past `max_connections` in all, or past `max_per_source` from one peer
//   address, is closed at once instead of taking a descriptor for as long as it idles;
// - running out of descriptors never stops the listener: gRPC 1.51's own accept loop gives up
//   on EMFILE for good; this one refuses that connection (one descriptor is kept in reserve
//   to accept and close it, so the queue does not fill) and keeps accepting.
// Counts come from the kernel (ConnectionCensus). docs/operations.md "Listeners, connections
// and hostile peers".

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "ca/net/connection_census.h"
#include "common/error.h"

namespace imprint::ca {

struct GateLimits {
  unsigned max_connections = 1024;
  unsigned max_per_source = 64;
};

class GatedListener {
 public:
  // Binds HOST:PORT (port 0: a free port) with a bounded accept queue. `what` names it in logs.
  static Result<std::unique_ptr<GatedListener>> Bind(const std::string& address,
                                                     const GateLimits& limits, std::string what);
  ~GatedListener();  // Stop()
  GatedListener(const GatedListener&) = delete;
  GatedListener& operator=(const GatedListener&) = delete;

  // Before the builder's BuildAndStart.
  void Attach(grpc::ServerBuilder& builder, std::shared_ptr<grpc::ServerCredentials> credentials);
  // After BuildAndStart: accepts on its own thread.
  void Start();
  // Stops accepting and closes the listening socket; connections already handed over stay
  // with gRPC.
  void Stop();

  int port() const { return port_; }
  uint64_t refused() const { return refused_; }

 private:
  GatedListener() = default;
  void AcceptLoop();
  // Whether the connection from `peer` (just accepted, so counted by the census) may stay.
  bool Admit(const std::string& peer);
  void RefuseOneAtDescriptorLimit();

  std::string what_;
  GateLimits limits_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;     // an eventfd that ends the accept loop
  int reserve_fd_ = -1;  // given up to accept-and-close one connection when descriptors run out
  int port_ = 0;
  std::unique_ptr<ConnectionCensus> census_;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  std::atomic<uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace imprint::ca
