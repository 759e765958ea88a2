#include "ca/est/server.h"

#include "ca/est/wire.h"
#include "ca/http/tls_identity.h"
#include "common/base64.h"
#include "common/identifier.h"
#include "common/log.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

constexpr const char* kPrefix = "/.well-known/est";

http::HttpLimits EstLimits() {
  http::HttpLimits limits;
  limits.max_body_bytes = 16 * 1024;  // a CSR of up to 8 KiB (x509::kMaxCsrBytes) in base64
  limits.max_header_bytes = 8 * 1024;
  limits.max_connections = 256;
  limits.max_per_source = 64;
  limits.request_deadline = std::chrono::seconds(10);
  limits.idle_timeout = std::chrono::seconds(30);
  // A handler waits for its issuance's group commit, so the threads bound how many
  // enrollments share a commit: 16 gave 1,215 a second from 16 clients where the listener's
  // default 4 gave 1,029 (scripts/bench-est.sh, one run each, 2026-12-07).
  limits.threads = 16;
  return limits;
}

// The HTTP status for an error of the CA's rules (RFC 7030 4.2.3: 4xx for the client's
// request, 5xx for the CA's own trouble), and its text: the CA's short message for what the
// client can change, nothing internal otherwise.
void Refuse(const Error& error, http::Response& response) {
  int status = 500;
  switch (error.code()) {
    case Code::kInvalidArgument:
    case Code::kOutOfRange:
      status = 400;
      break;
    case Code::kUnauthenticated:
      status = 401;
      break;
    case Code::kPermissionDenied:
    case Code::kResourceExhausted:
      status = 403;
      break;
    case Code::kNotFound:
      status = 404;
      break;
    case Code::kAlreadyExists:
    case Code::kFailedPrecondition:
    case Code::kAborted:
      status = 409;
      break;
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
      status = 503;
      response.SetHeader("Retry-After", "5");
      break;
    default:
      break;
  }
  response.status = status;
  if (status == 500) LogWarning("est: " + error.ToString());
  response.SetContent(status == 500 ? "internal error\n" : error.message() + "\n", "text/plain");
}

// A certs-only answer holding `certificates`; false when it could not be made (refused).
bool AnswerCertsOnly(const std::vector<const X509*>& certificates, http::Response& response) {
  auto body = est::CertsOnly(certificates);
  if (!body) {
    Refuse(body.error(), response);
    return false;
  }
  response.SetContent(std::move(*body), est::kCertsOnlyType);
  response.SetHeader("Content-Transfer-Encoding", "base64");
  return true;
}

// A certs-only answer holding the one certificate just issued.
bool AnswerIssued(ByteView certificate_der, http::Response& response) {
  auto cert = x509::ParseCertificateDer(certificate_der);
  if (!cert) {
    Refuse(cert.error(), response);
    return false;
  }
  return AnswerCertsOnly({cert->get()}, response);
}

// The request's CSR (DER); nullopt with the refusal in `response` when the body is not one.
std::optional<Bytes> RequestCsr(const http::Request& request, http::Response& response) {
  if (!request.Header("Content-Type").starts_with(est::kPkcs10Type)) {
    response.status = 415;
    response.SetContent("the body must be application/pkcs10\n", "text/plain");
    return std::nullopt;
  }
  auto csr = est::DecodeBody(request.body);
  if (!csr) {
    Refuse(csr.error(), response);
    return std::nullopt;
  }
  return std::move(*csr);
}

}  // namespace

Result<std::unique_ptr<EstServer>> EstServer::Start(const CaConfig& config, Authority& authority,
                                                    sql::ConnectionPool& reads) {
  std::unique_ptr<EstServer> s(new EstServer(config, authority, reads));
  IMPRINT_ASSIGN_OR_RETURN(http::TlsIdentity tls, LoadTlsIdentity(config, "est"));
  tls.request_client_certificate = true;
  // Stations' certificates come from the issuing CA.
  for (const X509* ca :
       {authority.certificates().issuing.get(), authority.certificates().root.get()}) {
    IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::CertificateToPem(ca));
    tls.client_ca_pem += pem;
  }
  s->server_ = std::make_unique<http::Server>();
  http::Server& server = *s->server_;
  EstServer* raw = s.get();
  server.SetAfterEach([](http::Response& r) { r.SetHeader("Cache-Control", "no-store"); });
  for (const std::string& base : {std::string(kPrefix), std::string(kPrefix) + "/{}"}) {
    server.Get(base + "/cacerts",
               [raw](const http::Request&, http::Response& r) { raw->CaCerts(r); });
    server.Get(base + "/csrattrs", [](const http::Request&, http::Response& r) { r.status = 204; });
    for (const char* op : {"/simpleenroll", "/simplereenroll"}) {
      server.Post(base + op, [raw](const http::Request& q, http::Response& r) {
        raw->Enroll(q, q.matches.size() > 1 ? q.matches[1] : "", r);
      });
    }
  }
  IMPRINT_ASSIGN_OR_RETURN(s->address_,
                           server.Start(config.est_listen, "est.listen", EstLimits(), &tls));
  OPENSSL_cleanse(tls.key_pem.data(), tls.key_pem.size());  // the server keeps its own copy
  return s;
}

void EstServer::CaCerts(http::Response& response) const {
  const auto& certs = authority_.certificates();
  AnswerCertsOnly({certs.issuing.get(), certs.root.get()}, response);
}

Result<std::string> EstServer::OrderFor(const std::string& station, const std::string& label) {
  if (!label.empty()) {
    if (!IsValidIdentifier(label)) return Fail(Code::kNotFound, "unknown label");
    return label;
  }
  auto db = reads_.Acquire();
  IMPRINT_ASSIGN_OR_RETURN(
      auto q, db->Prepare("SELECT o.id FROM orders o JOIN order_stations s ON s.order_id = o.id "
                          "WHERE s.station = ? AND o.status = 'open' ORDER BY o.id LIMIT 4"));
  q.BindAll(station);
  std::vector<std::string> open;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    open.push_back(q.ColumnText(0));
  }
  if (open.empty()) return Fail(Code::kFailedPrecondition, "this station serves no open order");
  if (open.size() > 1) {
    std::string names = open[0] + ", " + open[1] + (open.size() > 2 ? ", ..." : "");
    return Fail(Code::kFailedPrecondition,
                "this station serves several open orders (" + names +
                    "): name one as the label, /.well-known/est/ORDER/simpleenroll");
  }
  return open.front();
}

bool EstServer::AllowReenroll(const std::string& device) {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(rate_mu_);
  if (reenrolls_.size() > 100000) reenrolls_.clear();  // bounded, whatever the traffic
  auto& times = reenrolls_[device];
  while (!times.empty() && now - times.front() > std::chrono::hours(1)) times.pop_front();
  if (times.size() >= static_cast<size_t>(config_.est_reenroll_per_hour)) return false;
  times.push_back(now);
  return true;
}

void EstServer::Renew(const http::Request& request, const std::string& label,
                      const DevicePeer& device, http::Response& response) {
  if (!AllowReenroll(device.device_id)) {
    response.status = 429;
    response.SetHeader("Retry-After", "600");
    response.SetContent("too many re-enrollments for this device; retry later\n", "text/plain");
    return;
  }
  std::string profile = label.empty() ? config_.est_operational_profile : label;
  // A label names a device profile; the CA's own ones are not for devices to ask for.
  if (profile == "station" || profile == "tls-server" || profile == "matter-dac" ||
      !config_.profiles.contains(profile)) {
    return Refuse(Error(Code::kNotFound, "unknown label"), response);
  }
  auto csr = RequestCsr(request, response);
  if (!csr) return;
  auto renewed = authority_.RenewDevice(device, *csr, profile);
  if (!renewed) return Refuse(renewed.error(), response);
  if (AnswerIssued(renewed->certificate_der, response)) {
    response.SetHeader("X-Imprint-Serial", renewed->serial_hex);
  }
}

void EstServer::Enroll(const http::Request& request, const std::string& label,
                       http::Response& response) {
  if (!request.peer_certificate_pem.empty()) {
    auto device = authority_.AuthenticateDevice(request.peer_certificate_pem, request.remote_addr);
    if (device) return Renew(request, label, *device, response);
    if (device.error().code() != Code::kNotFound) return Refuse(device.error(), response);
  }
  Result<std::string> peer = request.peer_certificate_pem;
  if (request.peer_certificate_pem.empty()) {
    peer = Fail(Code::kUnauthenticated, "client certificate required");
  }
  auto station = authority_.AuthenticateStation(peer, request.remote_addr);
  if (!station) return Refuse(station.error(), response);
  auto csr = RequestCsr(request, response);
  if (!csr) return;
  auto device = est::CsrCommonName(*csr);
  if (!device) return Refuse(device.error(), response);
  if (!IsValidIdentifier(*device)) {
    return Refuse(Error(Code::kInvalidArgument, "the request's CN is not a valid device id"),
                  response);
  }
  auto order = OrderFor(*station, label);
  if (!order) return Refuse(order.error(), response);
  IssueRequest issue;
  issue.order_id = *order;
  issue.device_id = *device;
  issue.csr_der = std::move(*csr);
  auto issued = authority_.IssueDeviceCertificate(*station, issue);
  if (!issued) return Refuse(issued.error(), response);
  if (!AnswerIssued(issued->certificate_der, response)) return;
  // imprint's extension (docs/est.md): what the device's proof of possession signs, and the
  // certificate's serial, for ReportProvisioned over gRPC.
  response.SetHeader("X-Imprint-Challenge", Base64Encode(issued->challenge));
  response.SetHeader("X-Imprint-Serial", issued->serial_hex);
  response.SetHeader("X-Imprint-Order", *order);
}

}  // namespace imprint::ca
