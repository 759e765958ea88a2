#include "ca/http/server.h"

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "ca/net/listen_socket.h"

namespace imprint::http {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// One accepted connection, for the request deadline: when it began waiting for a request, and
// whether it is past its request (an answer being sent, which the idle timeout bounds).
struct Tracked {
  int fd = -1;
  std::chrono::steady_clock::time_point since;
  bool answering = false;
  bool cut = false;
};

// One request while its headers and body arrive.
struct Pending {
  Request request;
  bool too_big = false;
};

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
};

// Matches `path` against a route pattern (server.h); fills `captures` with the whole path, then
// each `{}` and `{*}` in order.
bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::vector<std::string>& captures) {
  captures.assign(1, std::string(path));
  size_t p = 0;
  size_t at = 0;
  while (p < pattern.size()) {
    if (pattern.substr(p).starts_with("{*}")) {
      if (p + 3 != pattern.size() || at >= path.size()) return false;
      captures.emplace_back(path.substr(at));
      return true;
    }
    if (pattern.substr(p).starts_with("{}")) {
      size_t end = path.find('/', at);
      if (end == std::string_view::npos) end = path.size();
      if (end == at) return false;
      captures.emplace_back(path.substr(at, end - at));
      at = end;
      p += 2;
      continue;
    }
    if (at >= path.size() || path[at] != pattern[p]) return false;
    ++at;
    ++p;
  }
  return at == path.size();
}

// The client's certificate from the TLS session (GnuTLS under libmicrohttpd), as PEM; "" when
// it sent none or it does not parse.
std::string PeerCertificatePem(MHD_Connection* connection) {
  auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (info == nullptr || info->tls_session == nullptr) return "";
  unsigned int count = 0;
  const gnutls_datum_t* peers =
      gnutls_certificate_get_peers(static_cast<gnutls_session_t>(info->tls_session), &count);
  if (peers == nullptr || count == 0) return "";
  const unsigned char* p = peers[0].data;
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(peers[0].size));
  if (cert == nullptr) return "";
  std::string pem;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    if (PEM_write_bio_X509(bio, cert) == 1) {
      char* data = nullptr;
      long n = BIO_get_mem_data(bio, &data);
      if (n > 0) pem.assign(data, static_cast<size_t>(n));
    }
    BIO_free(bio);
  }
  X509_free(cert);
  return pem;
}

MHD_Result CollectPair(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* into = static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
  into->emplace_back(key ? key : "", value ? value : "");
  return MHD_YES;
}

}  // namespace

struct Server::Impl {
  std::vector<Route> routes;
  std::function<void(Response&)> after;
  HttpLimits limits;
  std::string cert_pem;  // the library reads them for as long as it serves
  std::string key_pem;
  std::string client_ca_pem;
  bool client_certificates = false;
  MHD_Daemon* daemon = nullptr;

  ~Impl() { OPENSSL_cleanse(key_pem.data(), key_pem.size()); }

  std::mutex mu;
  std::condition_variable wake;
  std::set<Tracked*> connections;  // guarded by mu
  bool stopping = false;           // guarded by mu
  std::thread reaper;

  void Dispatch(const Request& request, Response& response) const {
    bool head = request.method == "HEAD";
    for (const auto& route : routes) {
      if (route.method != request.method && !(head && route.method == "GET")) continue;
      Request matched = request;
      if (!MatchPattern(route.pattern, request.path, matched.matches)) continue;
      route.handler(matched, response);
      return;
    }
    response.status = 404;
    response.SetContent("not found\n", "text/plain");
  }

  MHD_Result Send(MHD_Connection* connection, Response response) {
    if (after) after(response);
    if (auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT)) {
      if (auto* tracked = static_cast<Tracked*>(info->socket_context)) {
        std::lock_guard lock(mu);
        tracked->answering = true;
      }
    }
    MHD_Response* out = MHD_create_response_from_buffer(response.body.size(), response.body.data(),
                                                        MHD_RESPMEM_MUST_COPY);
    if (out == nullptr) return MHD_NO;
    for (const auto& [name, value] : response.headers) {
      MHD_add_response_header(out, name.c_str(), value.c_str());
    }
    MHD_Result queued = MHD_queue_response(connection, response.status, out);
    MHD_destroy_response(out);
    return queued;
  }

  MHD_Result Refuse(MHD_Connection* connection, int status, const char* text) {
    Response response;
    response.status = status;
    response.SetContent(text, "text/plain");
    return Send(connection, std::move(response));
  }

  // The library's access handler: called once with the headers, then once per piece of body,
  // then once more with none, when the answer is due.
  MHD_Result OnRequest(MHD_Connection* connection, const char* url, const char* method,
                       const char* upload_data, size_t* upload_size, void** request_state) {
    auto* pending = static_cast<Pending*>(*request_state);
    if (pending == nullptr) {
      pending = new Pending();
      *request_state = pending;
      Request& r = pending->request;
      r.method = method;
      r.path = url;
      MHD_get_connection_values(connection, MHD_HEADER_KIND, CollectPair, &r.headers);
      MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, CollectPair, &r.query);
      if (auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) {
        r.remote_addr = ca::NumericPeer(info->client_addr);
      }
      if (client_certificates) r.peer_certificate_pem = PeerCertificatePem(connection);
      if (r.headers.size() > limits.max_headers) {
        return Refuse(connection, 431, "too many header fields\n");
      }
      // The library refuses a malformed Content-Length itself; an oversized one is refused here,
      // before any of the body is read.
      std::string length = r.Header("Content-Length");
      uint64_t declared = 0;
      std::errc parsed = std::from_chars(length.data(), length.data() + length.size(), declared).ec;
      if (!length.empty() && (parsed != std::errc() || declared > limits.max_body_bytes)) {
        return Refuse(connection, 413, "request body too large\n");
      }
      return MHD_YES;
    }
    if (*upload_size != 0) {
      std::string& body = pending->request.body;
      if (!pending->too_big && body.size() + *upload_size > limits.max_body_bytes) {
        pending->too_big = true;
        std::string().swap(body);
      }
      if (!pending->too_big) body.append(upload_data, *upload_size);
      *upload_size = 0;
      return MHD_YES;
    }
    if (pending->too_big) return Refuse(connection, 413, "request body too large\n");
    Response response;
    Dispatch(pending->request, response);
    return Send(connection, std::move(response));
  }

  void OnCompleted(void** request_state) {
    delete static_cast<Pending*>(*request_state);
    *request_state = nullptr;
  }

  void OnConnection(MHD_Connection* connection, void** socket_context,
                    MHD_ConnectionNotificationCode code) {
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      auto* tracked = new Tracked();
      if (auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD)) {
        tracked->fd = info->connect_fd;
      }
      tracked->since = std::chrono::steady_clock::now();
      std::lock_guard lock(mu);
      connections.insert(tracked);
      *socket_context = tracked;
      return;
    }
    auto* tracked = static_cast<Tracked*>(*socket_context);
    if (tracked == nullptr) return;
    {
      // The library closes the descriptor after this returns: the reaper, which shuts
      // descriptors down under the same lock, never touches one that was reused.
      std::lock_guard lock(mu);
      connections.erase(tracked);
    }
    delete tracked;
    *socket_context = nullptr;
  }

  // After an answer has gone out, a kept-alive connection waits for its next request: its
  // deadline starts again.
  void OnAnswered(MHD_Connection* connection) {
    auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (info == nullptr || info->socket_context == nullptr) return;
    std::lock_guard lock(mu);
    auto* tracked = static_cast<Tracked*>(info->socket_context);
    tracked->answering = false;
    tracked->since = std::chrono::steady_clock::now();
  }

  // Cuts every connection whose request has not arrived whole within the deadline: the
  // library's own timeout restarts at every byte, so a client dripping one byte a second
  // would keep its connection for ever.
  void ReapLoop() {
    std::unique_lock lock(mu);
    while (!stopping) {
      wake.wait_for(lock, std::chrono::milliseconds(250));
      auto now = std::chrono::steady_clock::now();
      for (Tracked* t : connections) {
        if (t->cut || t->answering || t->fd < 0) continue;
        if (now - t->since < limits.request_deadline) continue;
        shutdown(t->fd, SHUT_RDWR);  // the library sees the end and closes it
        t->cut = true;
      }
    }
  }
};

namespace {

MHD_Result OnRequestThunk(void* cls, MHD_Connection* connection, const char* url,
                          const char* method, const char*, const char* upload_data,
                          size_t* upload_size, void** request_state) {
  return static_cast<Server::Impl*>(cls)->OnRequest(connection, url, method, upload_data,
                                                    upload_size, request_state);
}

void OnCompletedThunk(void* cls, MHD_Connection* connection, void** request_state,
                      MHD_RequestTerminationCode) {
  auto* impl = static_cast<Server::Impl*>(cls);
  impl->OnCompleted(request_state);
  impl->OnAnswered(connection);
}

void OnConnectionThunk(void* cls, MHD_Connection* connection, void** socket_context,
                       MHD_ConnectionNotificationCode code) {
  static_cast<Server::Impl*>(cls)->OnConnection(connection, socket_context, code);
}

}  // namespace

std::string Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (SameName(key, name)) return value;
  }
  return "";
}

size_t Request::HeaderCount(std::string_view name) const {
  return std::count_if(headers.begin(), headers.end(),
                       [&](const auto& h) { return SameName(h.first, name); });
}

std::string Request::Query(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return "";
}

void Response::SetHeader(std::string name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (SameName(key, name)) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

void Response::SetContent(std::string content, std::string content_type) {
  body = std::move(content);
  SetHeader("Content-Type", std::move(content_type));
}

Server::Server() : impl_(std::make_unique<Impl>()) {}

Server::~Server() { Stop(); }

void Server::Get(const std::string& pattern, Handler handler) {
  impl_->routes.push_back({"GET", pattern, std::move(handler)});
}

void Server::Post(const std::string& pattern, Handler handler) {
  impl_->routes.push_back({"POST", pattern, std::move(handler)});
}

void Server::Delete(const std::string& pattern, Handler handler) {
  impl_->routes.push_back({"DELETE", pattern, std::move(handler)});
}

void Server::SetAfterEach(std::function<void(Response&)> after) { impl_->after = std::move(after); }

Result<std::string> Server::Start(const std::string& listen, const std::string& what,
                                  const HttpLimits& limits, const TlsIdentity* tls) {
  Impl& impl = *impl_;
  impl.limits = limits;
  IMPRINT_ASSIGN_OR_RETURN(ca::ListeningSocket bound,
                           ca::ListenOn(listen, {.backlog = limits.accept_backlog}, what));
  int fd = bound.fd;

  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
  if (bound.family == AF_INET6) flags |= MHD_USE_IPv6;
  std::vector<MHD_OptionItem> options = {
      {MHD_OPTION_LISTEN_SOCKET, fd, nullptr},
      {MHD_OPTION_THREAD_POOL_SIZE, static_cast<intptr_t>(limits.threads), nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(limits.max_connections), nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<intptr_t>(limits.max_per_source), nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(2 * limits.max_header_bytes),
       nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(limits.idle_timeout.count()), nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&OnCompletedThunk), &impl},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&OnConnectionThunk), &impl},
  };
  if (tls != nullptr) {
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
      close(fd);
      return Fail(Code::kFailedPrecondition, what + ": libmicrohttpd was built without TLS");
    }
    flags |= MHD_USE_TLS;
    impl.cert_pem = tls->cert_pem;
    impl.key_pem = tls->key_pem;
    options.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, impl.cert_pem.data()});
    options.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, impl.key_pem.data()});
    if (tls->request_client_certificate) {
      // The library then asks every client for a certificate (GNUTLS_CERT_REQUEST: optional)
      // and the handshake proves the client holds its key; the routes judge the certificate.
      impl.client_certificates = true;
      impl.client_ca_pem = tls->client_ca_pem;
      options.push_back({MHD_OPTION_HTTPS_MEM_TRUST, 0, impl.client_ca_pem.data()});
    }
  }
  options.push_back({MHD_OPTION_END, 0, nullptr});
  impl.daemon = MHD_start_daemon(flags, 0, nullptr, nullptr, &OnRequestThunk, &impl,
                                 MHD_OPTION_ARRAY, options.data(), MHD_OPTION_END);
  if (impl.daemon == nullptr) {
    close(fd);
    return Fail(tls ? Code::kFailedPrecondition : Code::kUnavailable,
                "cannot serve " + listen + " (" + what +
                    (tls ? "; is the TLS certificate and key a pair?)" : ")"));
  }
  {
    std::lock_guard lock(impl.mu);
    impl.stopping = false;
  }
  impl.reaper = std::thread([&impl] { impl.ReapLoop(); });
  return bound.address;
}

void Server::Stop() {
  Impl& impl = *impl_;
  if (impl.daemon == nullptr) return;
  MHD_stop_daemon(impl.daemon);  // closes the listener and every connection
  impl.daemon = nullptr;
  {
    std::lock_guard lock(impl.mu);
    impl.stopping = true;
  }
  impl.wake.notify_all();
  if (impl.reaper.joinable()) impl.reaper.join();
}

}  // namespace imprint::http
