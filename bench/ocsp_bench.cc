#include "bench/ocsp_bench.h"

#include <httplib.h>
#include <openssl/ocsp.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "bench/bench_report.h"
#include "ca/ca_files.h"
#include "ca/store/store.h"
#include "common/x509/encoding.h"

namespace imprint::bench {
namespace {

using RequestPtr = x509::Owned<OCSP_REQUEST, OCSP_REQUEST_free>;
using ResponsePtr = x509::Owned<OCSP_RESPONSE, OCSP_RESPONSE_free>;

// A DER OCSPRequest about `serial_hex` of `issuer`, with a fresh nonce if asked.
Result<std::string> MakeRequest(const X509* issuer, const std::string& serial_hex, bool nonce) {
  Bytes serial;
  if (!HexDecode(serial_hex, &serial)) return Fail(Code::kInvalidArgument, "bad serial");
  x509::Asn1IntegerPtr number(ASN1_INTEGER_new());
  ASN1_STRING_set(number.get(), serial.data(), static_cast<int>(serial.size()));
  OCSP_CERTID* id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
                                     X509_get0_pubkey_bitstr(issuer), number.get());
  RequestPtr request(OCSP_REQUEST_new());
  if (id == nullptr || !request || OCSP_request_add0_id(request.get(), id) == nullptr ||
      (nonce && OCSP_request_add1_nonce(request.get(), nullptr, -1) != 1)) {
    return Fail(Code::kInternal, "cannot build an OCSP request");
  }
  IMPRINT_ASSIGN_OR_RETURN(Bytes der, x509::ToDer(i2d_OCSP_REQUEST, request.get()));
  return std::string(der.begin(), der.end());
}

// Whether `body` is a successful response saying "good".
bool Good(const std::string& body) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(body.data());
  ResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(body.size())));
  if (!response || OCSP_response_status(response.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return false;
  }
  x509::Owned<OCSP_BASICRESP, OCSP_BASICRESP_free> basic(OCSP_response_get1_basic(response.get()));
  OCSP_SINGLERESP* single = basic ? OCSP_resp_get0(basic.get(), 0) : nullptr;
  return single != nullptr && OCSP_single_get0_status(single, nullptr, nullptr, nullptr, nullptr) ==
                                  V_OCSP_CERTSTATUS_GOOD;
}

}  // namespace

Status RunOcsp(const OcspOptions& o) {
  IMPRINT_ASSIGN_OR_RETURN(ca::CaConfig config, ca::CaConfig::Load(o.config));
  IMPRINT_ASSIGN_OR_RETURN(auto certs, ca::CaCertificates::Load(config));
  std::vector<std::string> serials;
  {
    IMPRINT_ASSIGN_OR_RETURN(auto db, ca::OpenCaDatabaseReadOnly(config));
    IMPRINT_ASSIGN_OR_RETURN(
        auto rows,
        db->Prepare(
            "SELECT serial_hex FROM devices WHERE serial_hex NOT IN (SELECT serial_hex FROM "
            "revocations) LIMIT 1000"));
    for (;;) {
      IMPRINT_ASSIGN_OR_RETURN(bool row, rows.Step());
      if (!row) break;
      serials.push_back(rows.ColumnText(0));
    }
  }
  if (serials.empty()) return Fail(Code::kFailedPrecondition, "the CA has issued no certificate");
  // Requests are built before timing: the client's work is not the server's.
  std::vector<std::string> requests;
  for (int i = 0; i < 4000; ++i) {
    IMPRINT_ASSIGN_OR_RETURN(
        std::string r, MakeRequest(certs.issuing.get(),
                                   serials[static_cast<size_t>(i) % serials.size()], o.nonce));
    requests.push_back(std::move(r));
  }
  std::atomic<bool> stop{false}, failed{false};
  std::mutex why_mu;
  std::string why;
  std::atomic<size_t> next{0};
  std::atomic<long> answered{0};
  Latencies latencies;
  std::vector<std::thread> threads;
  double ca_cpu_start = o.ca_pid > 0 ? ProcessCpuSeconds(o.ca_pid) : 0;
  double own_cpu_start = ProcessCpuSeconds();
  auto start = Clock::now();
  for (int t = 0; t < o.clients; ++t) {
    threads.emplace_back([&] {
      httplib::Client client(o.url);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      while (!stop) {
        const std::string& request = requests[next.fetch_add(1) % requests.size()];
        auto sent = Clock::now();
        auto res = client.Post("/ocsp", request, "application/ocsp-request");
        // A kept-alive connection the server closed as this request went out: send it again
        // once, as HTTP clients do for an idempotent request.
        if (!res) res = client.Post("/ocsp", request, "application/ocsp-request");
        if (!res || res->status != 200 || !Good(res->body)) {
          std::lock_guard lock(why_mu);
          why = !res                 ? "no response (" + httplib::to_string(res.error()) + ")"
                : res->status != 200 ? "HTTP " + std::to_string(res->status)
                                     : "an answer that is not a successful \"good\"";
          failed = true;
          return;
        }
        latencies.Add(Clock::now() - sent);
        ++answered;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = Seconds(Clock::now() - start);
  double n = static_cast<double>(std::max<long>(answered.load(), 1));
  double client_us = (ProcessCpuSeconds() - own_cpu_start) * 1e6 / n;
  double ca_us = o.ca_pid > 0 ? (ProcessCpuSeconds(o.ca_pid) - ca_cpu_start) * 1e6 / n : 0;
  if (failed) return Fail(Code::kUnavailable, "an OCSP request got " + why);
  PrintResult({{"bench", "ocsp"},
               {"clients", o.clients},
               {"nonce", o.nonce},
               {"responses", answered.load()},
               {"responses_per_s", answered.load() / elapsed},
               {"p50_ms", latencies.Percentile(0.5)},
               {"p99_ms", latencies.Percentile(0.99)},
               {"client_cpu_us_per_response", client_us},
               {"ca_cpu_us_per_response", ca_us}});
  return {};
}

}  // namespace imprint::bench
