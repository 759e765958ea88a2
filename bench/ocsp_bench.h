#pragma once
// `imprint-bench ocsp`: OCSP responses per second through a serving CA's HTTP listener about
// certificates the CA issued (serials read from its store). Without --nonce the requests are
// RFC 5019's (no nonce): answered from the responder's cache once signed. With --nonce each
// request has its own, so every answer is looked up and signed.

#include <string>

#include "common/error.h"

namespace imprint::bench {

struct OcspOptions {
  std::string config;  // the serving CA's configuration (its store and issuing certificate)
  std::string url;     // http://HOST:PORT
  int clients = 16;
  double seconds = 3;
  bool nonce = false;
  int ca_pid = 0;  // the CA's process: report its CPU per response (and this process's)
};

Status RunOcsp(const OcspOptions& options);

}  // namespace imprint::bench
