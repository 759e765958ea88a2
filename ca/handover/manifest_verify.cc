#include "ca/handover/manifest_verify.h"

#include <fstream>
#include <set>
#include <unordered_set>
#include <vector>

#include "ca/handover/manifest_identity.h"
#include "common/base64.h"
#include "common/file_util.h"
#include "common/identifier.h"
#include "common/jose/jws.h"
#include "common/x509/certificate_fields.h"
#include "common/x509/chain.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

struct Signer {
  x509::X509Ptr root;
  x509::X509Ptr matter_paa;          // null unless given
  std::vector<x509::X509Ptr> chain;  // the signer certificate, then its issuers below the root
  nlohmann::json header;             // kid and x5t#S256
  std::string sha256;                // hex, of the signer certificate's DER
};

// Lower-case hex without the colons `openssl x509 -fingerprint` puts between bytes.
std::string NormalisedHex(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ':') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Result<Signer> LoadSigner(const ManifestVerifyOptions& options) {
  const std::string& root_path = options.root_pem_path;
  const std::string& signer_path = options.signer_pem_path;
  Signer s;
  IMPRINT_ASSIGN_OR_RETURN(std::string root_pem, ReadWholeFile(root_path));
  IMPRINT_ASSIGN_OR_RETURN(s.root, x509::ParseCertificatePem(root_pem));
  if (!options.matter_paa_pem_path.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(std::string paa_pem, ReadWholeFile(options.matter_paa_pem_path));
    IMPRINT_ASSIGN_OR_RETURN(s.matter_paa, x509::ParseCertificatePem(paa_pem));
  }
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
  // Any certificate that chains to the root could sign (a station's, a device's, the CA's TLS
  // certificate): only the manifest key's carries this usage.
  if (!x509::HasExtendedKeyUsage(s.chain[0].get(), kManifestSignerEku)) {
    return Fail(Code::kInvalidArgument,
                "the certificate in " + signer_path +
                    " is not a manifest signer's (it lacks extended key usage " +
                    kManifestSignerEku + ", id-kp-documentSigning)");
  }
  IMPRINT_ASSIGN_OR_RETURN(Bytes der, x509::CertificateToDer(s.chain[0].get()));
  s.sha256 = HexEncode(x509::Sha256(der));
  if (!options.signer_sha256.empty() && NormalisedHex(options.signer_sha256) != s.sha256) {
    return Fail(Code::kInvalidArgument, "the certificate in " + signer_path + " has SHA-256 " +
                                            s.sha256 + ", not the pinned " +
                                            EscapeForDisplay(options.signer_sha256));
  }
  IMPRINT_ASSIGN_OR_RETURN(s.header, SignerHeader(s.chain[0].get()));
  return s;
}

// Why `entry` does not verify; empty when it does. Raw text: the caller escapes it for display.
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
    return "header uniqueId " + unique_id + " is not the signed " + signed_id;
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
  if (!chained && signer.matter_paa && payload.contains("matter")) {
    // A Matter DAC: its x5c ends with the PAA, which must be the one given.
    if (certs.size() < 3 || X509_cmp(certs.back().get(), signer.matter_paa.get()) != 0) {
      return "the Matter DAC's x5c does not end with the PAA given";
    }
    intermediates.pop_back();
    chained = x509::VerifyChain(certs[0].get(), intermediates, signer.matter_paa.get());
  }
  if (!chained) return "device certificate: " + chained.error().message();
  // The signature covers the uniqueId and the certificate, but only this binds one to the
  // other: the CA names the device in the subject CN of every device certificate.
  auto common_name = x509::SubjectCommonName(certs[0].get());
  if (!common_name || *common_name != unique_id) {
    return "the device certificate is for " + common_name.value_or("no single CN") + ", not " +
           unique_id;
  }
  auto expected = jose::PublicJwk(X509_get0_pubkey(certs[0].get()));
  if (!expected) return expected.error().message();
  for (const auto& [name, value] : expected->items()) {
    if (!jwk.contains(name) || jwk[name] != value) return "the JWK is not the certificate's key";
  }
  return "";
}

}  // namespace

Result<ManifestReport> VerifyManifest(
    const ManifestVerifyOptions& options,
    const std::function<void(const ManifestFailure&)>& on_failure) {
  IMPRINT_ASSIGN_OR_RETURN(Signer signer, LoadSigner(options));
  std::ifstream in(options.manifest_path, std::ios::binary);
  if (!in) return Fail(Code::kNotFound, "cannot read " + options.manifest_path);
  ManifestReport report;
  report.signer_sha256 = signer.sha256;
  bool top_is_array = false;
  // The members seen in each object open inside the current element: a JSON parser keeps one
  // of two equal names (this one the last, others the first), so an entry with two is refused.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  // Ids of the entries that verified: only the signer can add one, so this grows with the
  // genuine manifest, not with what an attacker appends.
  std::unordered_set<std::string> verified_ids;
  using Event = nlohmann::json::parse_event_t;
  auto callback = [&](int depth, Event event, nlohmann::json& value) {
    if (depth == 0 && event == Event::array_start) top_is_array = true;
    if (!top_is_array || depth == 0) return true;
    if (event == Event::object_start) open_objects.emplace_back();
    if (event == Event::key && !open_objects.empty() &&
        !open_objects.back().insert(value.get<std::string>()).second && duplicate.empty()) {
      duplicate = value.get<std::string>();
    }
    if (event == Event::object_end && !open_objects.empty()) open_objects.pop_back();
    bool element_done = depth == 1 && (event == Event::object_end || event == Event::array_end ||
                                       event == Event::value);
    if (!element_done) return true;
    std::string unique_id;
    std::string reason;
    if (!value.is_object()) {
      reason = "not a JSON object";
    } else if (!duplicate.empty()) {
      reason = "member \"" + duplicate + "\" appears twice in one object";
    } else {
      reason = CheckEntry(signer, value, unique_id);
      if (reason.empty() && !verified_ids.insert(unique_id).second) {
        reason = "uniqueId appears in an earlier entry";
      }
    }
    if (!reason.empty()) {
      ++report.failed;
      on_failure({report.entries, EscapeForDisplay(unique_id), EscapeForDisplay(reason, 512)});
    }
    ++report.entries;
    open_objects.clear();
    duplicate.clear();
    return false;
  };
  auto parsed = nlohmann::json::parse(in, callback, false);
  if (parsed.is_discarded() || !top_is_array) {
    return Fail(Code::kInvalidArgument, options.manifest_path + " is not a JSON array");
  }
  return report;
}

}  // namespace imprint::ca
