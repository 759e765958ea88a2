#include "bench/est_bench.h"

#include <httplib.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>

#include <atomic>
#include <thread>

#include "bench/bench_report.h"
#include "common/base64.h"
#include "common/x509/csr.h"
#include "common/x509/evp_signer.h"
#include "common/x509/key_policy.h"

namespace imprint::bench {
namespace {

struct EstItem {
  std::string body;  // the CSR, base64
  Bytes csr;
  std::string answer;
};

// The one certificate of a certs-only answer carries the CSR's key (every 25th is checked).
Status SpotCheck(const std::vector<EstItem>& items) {
  size_t step = std::max<size_t>(1, items.size() / 25);
  for (size_t i = 0; i < items.size(); i += step) {
    auto der = Base64Decode(items[i].answer);
    if (!der) return Fail(Code::kDataLoss, "an EST answer is not base64");
    const unsigned char* p = der->data();
    PKCS7* p7 = d2i_PKCS7(nullptr, &p, static_cast<long>(der->size()));
    if (p7 == nullptr || !PKCS7_type_is_signed(p7) || sk_X509_num(p7->d.sign->cert) != 1) {
      PKCS7_free(p7);
      return Fail(Code::kDataLoss, "an EST answer is not a certs-only PKCS#7 of one certificate");
    }
    X509* cert = sk_X509_value(p7->d.sign->cert, 0);
    IMPRINT_ASSIGN_OR_RETURN(auto csr, x509::ParseAndVerifyCsr(items[i].csr));
    bool same = EVP_PKEY_eq(X509_get0_pubkey(cert), csr.public_key.get()) == 1;
    PKCS7_free(p7);
    if (!same) return Fail(Code::kDataLoss, "issued certificate does not carry the CSR's key");
  }
  return {};
}

}  // namespace

Status RunEst(const EstOptions& o) {
  size_t colon = o.est.rfind(':');
  if (colon == std::string::npos) return Fail(Code::kInvalidArgument, "--est takes HOST:PORT");
  std::string host = o.est.substr(0, colon);
  int port = std::stoi(o.est.substr(colon + 1));
  Bytes random(4);
  RAND_bytes(random.data(), static_cast<int>(random.size()));
  std::string tag = HexEncode(random);
  std::vector<EstItem> items(static_cast<size_t>(o.count));
  for (size_t i = 0; i < items.size(); ++i) {
    IMPRINT_ASSIGN_OR_RETURN(auto key, x509::GenerateKey("P-256"));
    IMPRINT_ASSIGN_OR_RETURN(auto signer, x509::EvpSigner::Create(std::move(key)));
    IMPRINT_ASSIGN_OR_RETURN(
        items[i].csr, x509::BuildCsr(*signer, {{"CN", "est-" + tag + "-" + std::to_string(i)}}));
    items[i].body = Base64Encode(items[i].csr);
  }
  std::string path = "/.well-known/est/" + o.order + "/simpleenroll";
  std::vector<std::unique_ptr<httplib::SSLClient>> clients;
  for (int c = 0; c < o.clients; ++c) {
    auto client = std::make_unique<httplib::SSLClient>(
        host, port, o.station_dir + "/station-cert.pem", o.station_dir + "/station-key.pem");
    client->set_ca_cert_path(o.station_dir + "/ca-root.pem");
    client->enable_server_certificate_verification(true);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);  // headers and body leave at once (no 40 ms delayed-ACK wait)
    client->set_read_timeout(30, 0);
    // Connected before the clock starts: issuance is measured, not the TLS handshakes.
    auto warm = client->Get("/.well-known/est/cacerts");
    if (!warm || warm->status != 200) {
      return Fail(Code::kUnavailable, "cannot reach the EST listener at " + o.est);
    }
    clients.push_back(std::move(client));
  }
  Latencies latencies;
  std::atomic<size_t> next{0};
  std::atomic<int> failed{0};
  std::string first_error;
  std::mutex error_mu;
  CpuSpan cpu(0);
  ProcessesCpu ca_cpu(o.ca_pids);
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (auto& client : clients) {
    threads.emplace_back([&, c = client.get()] {
      for (size_t i; (i = next++) < items.size();) {
        auto began = Clock::now();
        auto answer = c->Post(path, items[i].body, "application/pkcs10");
        latencies.Add(Clock::now() - began);
        if (answer && answer->status == 200) {
          items[i].answer = answer->body;
          continue;
        }
        ++failed;
        std::lock_guard lock(error_mu);
        if (first_error.empty()) {
          first_error = answer ? std::to_string(answer->status) + " " + answer->body
                               : "HTTP error " + std::to_string(static_cast<int>(answer.error()));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = Seconds(Clock::now() - start);
  if (failed > 0) {
    return Fail(Code::kInternal,
                std::to_string(failed.load()) + " enrollments failed: " + first_error);
  }
  IMPRINT_RETURN_IF_ERROR(SpotCheck(items));
  double per_cert_us = 1e6 / o.count;
  nlohmann::json result = {{"bench", "est"},
                           {"clients", o.clients},
                           {"count", o.count},
                           {"certs_per_s", o.count / seconds},
                           {"p50_ms", latencies.Percentile(0.5)},
                           {"p99_ms", latencies.Percentile(0.99)},
                           {"client_cpu_us_per_cert", cpu.OwnSeconds() * per_cert_us}};
  if (!o.ca_pids.empty()) result["ca_cpu_us_per_cert"] = ca_cpu.Seconds() * per_cert_us;
  PrintResult(result);
  return {};
}

}  // namespace imprint::bench
