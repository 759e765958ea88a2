#include "ca/revocation/http_server.h"

#include <httplib.h>
#include <openssl/evp.h>

#include <chrono>

#include "ca/http/listener.h"
#include "common/base64.h"
#include "common/log.h"

namespace imprint::ca {
namespace {

constexpr size_t kMaxRequestBytes = 16 * 1024;
constexpr size_t kThreads = 64;  // an OCSP request for 16 certificates is ~1 KB

// Standard base64 (RFC 6960 A.1 GET), padding required; nullopt when it is not.
std::optional<Bytes> DecodeBase64(const std::string& text) {
  if (text.size() > kMaxRequestBytes) return std::nullopt;
  return Base64Decode(text);
}

void SendOcsp(httplib::Response& res, const Bytes& der) {
  res.set_content(std::string(der.begin(), der.end()), "application/ocsp-response");
}

}  // namespace

Result<std::unique_ptr<RevocationHttpServer>> RevocationHttpServer::Start(const std::string& listen,
                                                                          CrlKeeper& crl,
                                                                          OcspResponder& ocsp) {
  std::unique_ptr<RevocationHttpServer> s(new RevocationHttpServer());
  s->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *s->server_;
  server.set_payload_max_length(kMaxRequestBytes);
  // Small requests and answers on kept-alive connections: without TCP_NODELAY each answer
  // waits for the client's delayed ACK (about 40 ms).
  server.set_tcp_nodelay(true);
  // A kept-alive connection holds a thread between requests: enough for many relying parties
  // at once (httplib's default is the number of cores).
  server.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // httplib closes a kept-alive connection after 5 requests by default; a client that sends
  // its next request as the close arrives sees it fail. Relying parties poll: keep it open.
  server.set_keep_alive_max_count(10000);
  server.set_read_timeout(5, 0);
  AllowOneRangeAtMost(server);
  server.set_write_timeout(30, 0);  // a CRL of a million entries is some 40 MB

  server.Get("/crl/issuing.crl", [&crl](const httplib::Request&, httplib::Response& res) {
    auto current = crl.current();
    if (current == nullptr) {
      res.status = 503;
      res.set_content("no CRL published yet\n", "text/plain");
      return;
    }
    res.set_content(std::string(current->der.begin(), current->der.end()), "application/pkix-crl");
  });
  server.Post("/ocsp", [&ocsp](const httplib::Request& req, httplib::Response& res) {
    const std::string& body = req.body;
    SendOcsp(res,
             ocsp.Respond(ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size())));
  });
  server.Get(R"(/ocsp/(.+))", [&ocsp](const httplib::Request& req, httplib::Response& res) {
    auto request = DecodeBase64(req.matches[1].str());
    // Not base64: answered like any other unparsable request (malformedRequest).
    SendOcsp(res, ocsp.Respond(request ? ByteView(*request) : ByteView()));
  });

  IMPRINT_ASSIGN_OR_RETURN(s->address_,
                           BindAndServe(server, listen, s->thread_, "status.http_listen"));
  return s;
}

RevocationHttpServer::~RevocationHttpServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace imprint::ca
