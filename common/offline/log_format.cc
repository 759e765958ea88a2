#include "common/offline/log_format.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "common/parallel.h"
#include "common/x509/certificate_view.h"
#include "common/x509/encoding.h"
#include "common/x509/signed_der.h"
#include "common/x509/signer.h"
#include "common/x509/spki.h"

namespace imprint::offline {
namespace {

void AppendText(Bytes& out, std::string_view text) {
  out.insert(out.end(), text.begin(), text.end());
  out.push_back(0);
}

void AppendInt(Bytes& out, int64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(value) >> shift));
  }
}

void Append(Bytes& out, ByteView data) { out.insert(out.end(), data.begin(), data.end()); }

}  // namespace

Bytes ChainHash(std::string_view allowance_id, ByteView previous, const LogEntry& e) {
  Bytes message;
  AppendText(message, "imprint-offline-log-v1");
  AppendText(message, allowance_id);
  Append(message, previous);
  AppendInt(message, e.seq);
  AppendText(message, e.device);
  AppendText(message, e.serial_hex);
  Append(message, x509::Sha256(e.certificate_der));
  Append(message, e.challenge);
  AppendInt(message, e.issued_ms);
  return x509::Sha256(message);
}

Bytes CheckpointMessage(std::string_view allowance_id, int64_t seq, ByteView hash) {
  Bytes message;
  AppendText(message, "imprint-offline-checkpoint-v1");
  AppendText(message, allowance_id);
  AppendInt(message, seq);
  Append(message, hash);
  return message;
}

std::vector<LogViolation> VerifyLog(const SignedAllowance& allowance, X509* subordinate,
                                    const std::vector<LogEntry>& entries,
                                    const std::vector<LogCheckpoint>& checkpoints,
                                    const LogStart& start,
                                    std::vector<x509::PkeyPtr>* device_keys) {
  std::vector<LogViolation> out;
  EVP_PKEY* key = X509_get0_pubkey(subordinate);
  auto alg = key ? x509::DefaultAlgorithmFor(key) : Result<x509::SignatureAlgorithm>();
  if (!key || !alg) return {{0, "the subordinate certificate's key cannot verify"}};

  // In order: numbering, the chain and the limits, up to the first entry that cannot be placed.
  Bytes previous = start.hash;
  std::map<int64_t, Bytes> hash_at;
  std::set<std::string> devices;
  std::vector<std::vector<std::string>> flags(entries.size());
  std::optional<LogViolation> broken;
  size_t placed = 0;
  for (; placed < entries.size(); ++placed) {
    const LogEntry& e = entries[placed];
    auto flag = [&](const std::string& reason) { flags[placed].push_back(reason); };
    int64_t expected = start.seq + static_cast<int64_t>(placed) + 1;
    if (e.seq != expected) {
      broken =
          LogViolation{e.seq, "entry " + std::to_string(expected) + " is numbered " +
                                  std::to_string(e.seq) + ": the log has a gap or is reordered"};
      break;  // nothing after can be placed
    }
    Bytes hash = ChainHash(allowance.id, previous, e);
    if (hash != e.hash) {
      broken =
          LogViolation{e.seq, "the hash chain breaks here: the entry or one before it was edited"};
      break;
    }
    hash_at[e.seq] = hash;
    previous = hash;
    if (!devices.insert(e.device).second) flag("device " + e.device + " appears twice");
    if (e.seq > allowance.count) {
      flag("past the count: entry " + std::to_string(e.seq) + " of an allowance of " +
           std::to_string(allowance.count));
    }
    if (e.issued_ms > allowance.not_after_ms) flag("issued after the allowance ended");
  }
  // Each placed entry's certificate, on the machine's threads: the costly part. Read as DER, not
  // through d2i_X509 (certificate_view.h): the same checks as X509_verify, and the issuer's name.
  std::vector<std::vector<std::string>> cert_flags(placed);
  std::vector<x509::PkeyPtr> keys(entries.size());
  auto ended =
      std::chrono::system_clock::from_time_t(static_cast<time_t>(allowance.not_after_ms / 1000));
  auto issuer = x509::ToDer(i2d_X509_NAME, X509_get_subject_name(subordinate));
  auto algorithm = x509::AlgorithmIdentifierDer(*alg);
  if (!issuer || !algorithm) return {{0, "the subordinate certificate's name cannot be read"}};
  (void)InParallel(placed, [&](size_t i) -> Status {
    const LogEntry& e = entries[i];
    auto cert = x509::ReadCertificate(e.certificate_der);
    if (!cert || !std::ranges::equal(cert->issuer, *issuer) ||
        !std::ranges::equal(cert->signature_algorithm, *algorithm) ||
        !x509::VerifySignature(key, *alg, cert->tbs, cert->signature)) {
      cert_flags[i].push_back("the certificate was not signed by the subordinate key");
      return {};
    }
    if (HexEncode(cert->serial) != e.serial_hex) {
      cert_flags[i].push_back("the certificate's serial is not the entry's");
    }
    if (cert->not_before > ended) {
      cert_flags[i].push_back("the certificate begins after the allowance ended");
    }
    auto device_key = x509::DecodePublicKey(cert->spki);
    if (!device_key) {
      cert_flags[i].push_back("the certificate's key does not decode");
      return {};
    }
    keys[i] = std::move(*device_key);
    return {};
  });
  if (device_keys != nullptr) *device_keys = std::move(keys);
  for (size_t i = 0; i < placed; ++i) {
    for (auto& reason : flags[i]) out.push_back({entries[i].seq, std::move(reason)});
    for (auto& reason : cert_flags[i]) out.push_back({entries[i].seq, std::move(reason)});
  }
  if (broken) {
    out.push_back(std::move(*broken));
    return out;
  }
  int64_t signed_up_to = start.seq;
  for (const LogCheckpoint& c : checkpoints) {
    auto at = hash_at.find(c.seq);
    if (at == hash_at.end() || at->second != c.hash) {
      out.push_back({c.seq, "a checkpoint names a hash the log does not have"});
      continue;
    }
    if (!x509::VerifySignature(key, *alg, CheckpointMessage(allowance.id, c.seq, c.hash),
                               c.signature)) {
      out.push_back({c.seq, "a checkpoint's signature does not verify"});
      continue;
    }
    signed_up_to = std::max(signed_up_to, c.seq);
  }
  if (signed_up_to < start.seq + static_cast<int64_t>(entries.size())) {
    out.push_back({signed_up_to + 1,
                   "entries past the last signed checkpoint (the log's end "
                   "is not signed: truncated or appended)"});
  }
  return out;
}

}  // namespace imprint::offline
