#include "ca/revocation/http_server.h"

#include "common/base64.h"

namespace imprint::ca {
namespace {

// The listener's limits (docs/operations.md, "HTTP listeners"): an OCSP request for 16
// certificates is about 1 KB, and relying parties need no large headers.
http::HttpLimits StatusLimits() {
  http::HttpLimits limits;
  limits.max_body_bytes = 16 * 1024;
  limits.max_header_bytes = 16 * 1024;
  // A CRL of a million entries is some 40 MB: a slow reader has this long between writes.
  limits.idle_timeout = std::chrono::seconds(30);
  return limits;
}

// Standard base64 (RFC 6960 A.1 GET), padding required; nullopt when it is not.
std::optional<Bytes> DecodeBase64(const std::string& text) {
  if (text.size() > StatusLimits().max_body_bytes) return std::nullopt;
  return Base64Decode(text);
}

void SendOcsp(http::Response& res, const Bytes& der) {
  res.SetContent(std::string(der.begin(), der.end()), "application/ocsp-response");
}

}  // namespace

Result<std::unique_ptr<RevocationHttpServer>> RevocationHttpServer::Start(const std::string& listen,
                                                                          CrlKeeper& crl,
                                                                          OcspResponder& ocsp) {
  std::unique_ptr<RevocationHttpServer> s(new RevocationHttpServer());
  http::Server& server = s->server_;
  for (CrlList list : kCrlLists) {
    std::string path = "/crl/" + std::string(CrlListName(list)) + ".crl";
    server.Get(path, [&crl, list](const http::Request&, http::Response& res) {
      if (!crl.publishes(list)) {
        res.status = 404;
        res.SetContent("this CA publishes no such CRL\n", "text/plain");
        return;
      }
      auto current = crl.current(list);
      if (current == nullptr) {
        res.status = 503;
        res.SetContent("no CRL published yet\n", "text/plain");
        return;
      }
      res.SetContent(std::string(current->der.begin(), current->der.end()), "application/pkix-crl");
    });
  }
  server.Post("/ocsp", [&ocsp](const http::Request& req, http::Response& res) {
    const std::string& body = req.body;
    SendOcsp(res,
             ocsp.Respond(ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size())));
  });
  server.Get("/ocsp/{*}", [&ocsp](const http::Request& req, http::Response& res) {
    auto request = DecodeBase64(req.matches[1]);
    // Not base64: answered like any other unparsable request (malformedRequest).
    SendOcsp(res, ocsp.Respond(request ? ByteView(*request) : ByteView()));
  });
  IMPRINT_ASSIGN_OR_RETURN(s->address_, server.Start(listen, "status.http_listen", StatusLimits()));
  return s;
}

}  // namespace imprint::ca
