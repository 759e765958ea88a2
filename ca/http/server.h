#pragma once
// The CA's HTTP listeners (console and metrics, CRL and OCSP) on GNU libmicrohttpd, a server
// built for hostile networks: every limit below is enforced by the library or by this wrapper
// and stated in docs/operations.md ("HTTP listeners"). Routes are path patterns, tried in the
// order they were added: literal text, where `{}` captures one non-empty segment (no '/') and
// a final `{*}` captures the non-empty rest; a HEAD request takes its GET route.
//
// Limits, per listener (HttpLimits):
// - header bytes: the request line and headers live in a per-connection memory pool; a
//   request that does not fit is answered by the library (431 or 414) and closed;
// - header count: more than `max_headers` is 431;
// - body bytes: a Content-Length above `max_body_bytes` is 413 before any body is read, a
//   chunked body that grows past it is 413 with the rest discarded;
// - connections: `max_connections` in all and `max_per_source` per client address; beyond
//   either a new connection is closed at once;
// - time: a request's headers and body must arrive within `request_deadline` of the
//   connection opening (or the previous answer being sent), however slowly the bytes drip,
//   and a connection with nothing to do is closed after `idle_timeout`;
// - the kernel's accept queue holds `accept_backlog` connections;
// - Range is not served: every answer is the whole resource (RFC 9110 lets a server ignore
//   Range), so no request can ask for more bytes than the resource has;
// - Stop() closes every connection and returns once the handlers in flight have finished.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace imprint::http {

struct Request {
  std::string method;                // "GET", "POST", ... (a HEAD request is routed as GET)
  std::string path;                  // without the query, percent-decoded
  std::vector<std::string> matches;  // the route's captures; [0] is the whole path
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::vector<std::pair<std::string, std::string>> query;    // decoded query arguments
  std::string body;
  std::string remote_addr;  // the peer's numeric address (never a forwarded header)
  // With TlsIdentity::request_client_certificate: the certificate the client presented in the
  // TLS handshake (PEM; the handshake proved it holds the key), or empty. Not verified here:
  // the route decides which issuers it accepts.
  std::string peer_certificate_pem;

  // The first value of a header (names compare without case), or "".
  std::string Header(std::string_view name) const;
  size_t HeaderCount(std::string_view name) const;
  std::string Query(std::string_view name) const;  // the first value, or ""
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void SetHeader(std::string name, std::string value);
  void SetContent(std::string content, std::string content_type);
};

using Handler = std::function<void(const Request&, Response&)>;

struct HttpLimits {
  size_t max_body_bytes = 16 * 1024;
  size_t max_header_bytes = 16 * 1024;  // the connection's pool is twice this (read buffer)
  size_t max_headers = 64;
  unsigned max_connections = 256;
  unsigned max_per_source = 32;
  std::chrono::seconds request_deadline{10};
  std::chrono::seconds idle_timeout{30};
  int accept_backlog = 64;
  unsigned threads = 4;
};

struct TlsIdentity {
  std::string cert_pem;  // the certificate, then its chain
  std::string key_pem;
  // Ask clients for a certificate (optional for them), naming `client_ca_pem` (one or more
  // PEM certificates) as the acceptable issuers.
  bool request_client_certificate = false;
  std::string client_ca_pem;
};

class Server {
 public:
  Server();
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Before Start. `pattern` is matched against the whole path ("/orders/{}/close", "/ocsp/{*}").
  void Get(const std::string& pattern, Handler handler);
  void Post(const std::string& pattern, Handler handler);
  void Delete(const std::string& pattern, Handler handler);
  // Runs on every answer the routes or the wrapper give (404 and 413 too), before it is sent.
  void SetAfterEach(std::function<void(Response&)> after);

  // Binds `listen` (HOST:PORT; port 0 picks a free one) and serves on the library's threads.
  // Returns the HOST:PORT actually bound. `what` names the listener in errors
  // ("status.http_listen"). INVALID_ARGUMENT for a malformed address, UNAVAILABLE when it
  // cannot be bound, FAILED_PRECONDITION when the TLS identity is refused.
  Result<std::string> Start(const std::string& listen, const std::string& what,
                            const HttpLimits& limits, const TlsIdentity* tls = nullptr);
  void Stop();

  // The wrapper's state behind the library's C callbacks (server.cc).
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace imprint::http
