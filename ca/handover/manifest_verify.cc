#include "ca/handover/manifest_verify.h"

#include <fstream>

#include "ca/handover/manifest_identity.h"
#include "common/base64.h"
#include "common/file_util.h"
#include "common/identifier.h"
#include "common/jose/jws.h"
#include "common/x509/chain.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

struct Signer {
  x509::X509Ptr root;
  std::vector<x509::X509Ptr> chain;  // the signer certificate, then its issuers below the root
  nlohmann::json header;             // kid and x5t#S256
};

Result<Signer> LoadSigner(const std::string& root_path, const std::string& signer_path) {
  Signer s;
  IMPRINT_ASSIGN_OR_RETURN(std::string root_pem, ReadWholeFile(root_path));
  IMPRINT_ASSIGN_OR_RETURN(s.root, x509::ParseCertificatePem(root_pem));
  IMPRINT_ASSIGN_OR_RETURN(std::string signer_pem, ReadWholeFile(signer_path));
  IMPRINT_ASSIGN_OR_RETURN(s.chain, x509::ParseCertificatesPem(signer_pem));
  std::vector<X509*> intermediates;
  for (size_t i = 1; i < s.chain.size(); ++i) intermediates.push_back(s.chain[i].get());
  auto chained = x509::VerifyChain(s.chain[0].get(), intermediates, s.root.get());
  if (!chained) {
    return Fail(Code::kInvalidArgument, "the manifest signer certificate in " + signer_path +
                                            " does not chain to " + root_path + ": " +
                                            chained.error().message());
  }
  IMPRINT_ASSIGN_OR_RETURN(s.header, SignerHeader(s.chain[0].get()));
  return s;
}

// Why `entry` does not verify; empty when it does.
std::string CheckEntry(const Signer& signer, const nlohmann::json& entry, std::string& unique_id) {
  if (entry.contains("header") && entry["header"].is_object() &&
      entry["header"].contains("uniqueId") && entry["header"]["uniqueId"].is_string()) {
    unique_id = entry["header"]["uniqueId"].get<std::string>();
  }
  auto header = jose::PeekProtectedHeader(entry);
  if (!header) return header.error().message();
  if (header->value("x5t#S256", "") != signer.header["x5t#S256"].get<std::string>()) {
    return "signed by another key (x5t#S256 is not the manifest signer's)";
  }
  auto verified = jose::VerifyJws(entry, X509_get0_pubkey(signer.chain[0].get()));
  if (!verified) return verified.error().message();
  auto payload = nlohmann::json::parse(verified->payload, nullptr, false);
  if (!payload.is_object() || !payload.contains("uniqueId") || !payload["uniqueId"].is_string()) {
    return "payload is not a JSON object with a uniqueId";
  }
  std::string signed_id = payload["uniqueId"].get<std::string>();
  if (!unique_id.empty() && unique_id != signed_id) {
    return "header uniqueId " + EscapeForDisplay(unique_id) + " is not the signed " +
           EscapeForDisplay(signed_id);
  }
  unique_id = signed_id;
  const nlohmann::json* keys = nullptr;
  if (payload.contains("publicKeySet") && payload["publicKeySet"].is_object()) {
    auto it = payload["publicKeySet"].find("keys");
    if (it != payload["publicKeySet"].end() && it->is_array() && it->size() == 1) keys = &*it;
  }
  if (!keys) return "publicKeySet does not hold exactly one key";
  const nlohmann::json& jwk = (*keys)[0];
  if (!jwk.is_object() || !jwk.contains("x5c") || !jwk["x5c"].is_array() || jwk["x5c"].empty()) {
    return "the key has no x5c";
  }
  std::vector<x509::X509Ptr> certs;
  for (const auto& b64 : jwk["x5c"]) {
    auto der = b64.is_string() ? Base64Decode(b64.get<std::string>()) : std::nullopt;
    if (!der) return "x5c holds something that is not base64";
    auto cert = x509::ParseCertificateDer(*der);
    if (!cert) return "x5c holds something that is not a certificate";
    certs.push_back(std::move(*cert));
  }
  std::vector<X509*> intermediates;
  for (size_t i = 1; i < certs.size(); ++i) intermediates.push_back(certs[i].get());
  auto chained = x509::VerifyChain(certs[0].get(), intermediates, signer.root.get());
  if (!chained) return "device certificate: " + chained.error().message();
  auto expected = jose::PublicJwk(X509_get0_pubkey(certs[0].get()));
  if (!expected) return expected.error().message();
  for (const auto& [name, value] : expected->items()) {
    if (!jwk.contains(name) || jwk[name] != value) return "the JWK is not the certificate's key";
  }
  return "";
}

}  // namespace

Result<ManifestReport> VerifyManifest(const std::string& manifest_path,
                                      const std::string& root_pem_path,
                                      const std::string& signer_pem_path) {
  IMPRINT_ASSIGN_OR_RETURN(Signer signer, LoadSigner(root_pem_path, signer_pem_path));
  std::ifstream in(manifest_path, std::ios::binary);
  if (!in) return Fail(Code::kNotFound, "cannot read " + manifest_path);
  ManifestReport report;
  bool top_is_array = false;
  // Each element of the top-level array is checked as soon as it is parsed, then dropped.
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& value) {
    if (depth == 0 && event == nlohmann::json::parse_event_t::array_start) top_is_array = true;
    bool element_done = depth == 1 && (event == nlohmann::json::parse_event_t::object_end ||
                                       event == nlohmann::json::parse_event_t::array_end ||
                                       event == nlohmann::json::parse_event_t::value);
    if (!element_done || !top_is_array) return true;
    std::string unique_id;
    std::string reason =
        value.is_object() ? CheckEntry(signer, value, unique_id) : "not a JSON object";
    if (!reason.empty()) {
      report.failures.push_back({report.entries, EscapeForDisplay(unique_id), reason});
    }
    ++report.entries;
    return false;
  };
  auto parsed = nlohmann::json::parse(in, callback, false);
  if (parsed.is_discarded() || !top_is_array) {
    return Fail(Code::kInvalidArgument, manifest_path + " is not a JSON array");
  }
  return report;
}

}  // namespace imprint::ca
