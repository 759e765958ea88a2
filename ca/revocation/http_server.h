#pragma once
// RevocationHttpServer: the plain-HTTP side of `serve` ([status] http_listen): the CRLs at
// GET /crl/issuing.crl, /crl/offline.crl and /crl/root.crl (application/pkix-crl; 404 for a list
// this CA does not publish) and an OCSP responder at /ocsp (RFC 6960
// appendix A: POST with the DER request as body, or GET /ocsp/{base64 of it}). Plain HTTP is
// how relying parties fetch both: the CRL and every OCSP response are signed.

#include <memory>
#include <string>

#include "ca/http/server.h"
#include "ca/revocation/crl_keeper.h"
#include "ca/revocation/ocsp_responder.h"
#include "common/error.h"

namespace imprint::ca {

class RevocationHttpServer {
 public:
  // `listen` is HOST:PORT; port 0 picks a free port.
  static Result<std::unique_ptr<RevocationHttpServer>> Start(const std::string& listen,
                                                             CrlKeeper& crl, OcspResponder& ocsp);
  ~RevocationHttpServer() = default;  // stops listening; requests in flight finish first
  RevocationHttpServer(const RevocationHttpServer&) = delete;
  RevocationHttpServer& operator=(const RevocationHttpServer&) = delete;

  const std::string& address() const { return address_; }  // HOST:PORT actually bound

 private:
  RevocationHttpServer() = default;

  http::Server server_;
  std::string address_;
};

}  // namespace imprint::ca
