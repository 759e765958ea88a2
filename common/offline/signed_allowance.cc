#include "common/offline/signed_allowance.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/identifier.h"
#include "common/jose/jws.h"
#include "common/x509/certificate_fields.h"
#include "common/x509/chain.h"
#include "common/x509/distribution_point.h"
#include "common/x509/encoding.h"

namespace imprint::offline {
namespace {

Status Malformed(const std::string& what) {
  return Fail(Code::kInvalidArgument, "signed allowance: " + what);
}

constexpr const char* kDocumentSigning = "1.3.6.1.5.5.7.3.36";  // RFC 9336

// The signer's certificate from the protected header's x5c, checked to be the root's document
// signer.
Result<x509::X509Ptr> Signer(const nlohmann::json& header, X509* root) {
  auto x5c = header.find("x5c");
  if (x5c == header.end() || !x5c->is_array() || x5c->empty() || !(*x5c)[0].is_string()) {
    return std::unexpected(Malformed("no x5c").error());
  }
  auto der = Base64Decode((*x5c)[0].get<std::string>());
  if (!der) return std::unexpected(Malformed("x5c is not base64").error());
  IMPRINT_ASSIGN_OR_RETURN(x509::X509Ptr signer, x509::ParseCertificateDer(*der));
  if (X509_check_issued(root, signer.get()) != X509_V_OK || X509_check_ca(signer.get()) != 0 ||
      !x509::HasExtendedKeyUsage(signer.get(), kDocumentSigning)) {
    return std::unexpected(Malformed("the signer is not the root's document signer").error());
  }
  if (auto chained = x509::VerifyChain(signer.get(), {}, root); !chained) {
    return std::unexpected(Malformed("signer: " + chained.error().message()).error());
  }
  return signer;
}

Status ReadProfile(const nlohmann::json& payload, OfflineProfile& out) {
  auto it = payload.find("device_profile");
  if (it == payload.end() || !it->is_object()) return Malformed("device_profile missing");
  const nlohmann::json& p = *it;
  for (auto [key, field] :
       {std::pair{"organization", &out.organization},
        std::pair{"device_uri_prefix", &out.device_uri_prefix}, std::pair{"crl_url", &out.crl_url},
        std::pair{"ocsp_url", &out.ocsp_url}}) {
    auto value = p.find(key);
    if (value == p.end() || !value->is_string()) {
      return Malformed(std::string("device_profile.") + key + " missing");
    }
    *field = value->get<std::string>();
  }
  for (auto [key, field] : {std::pair{"key_usage", &out.key_usage},
                            std::pair{"extended_key_usage", &out.extended_key_usage}}) {
    auto value = p.find(key);
    if (value == p.end() || !value->is_array()) {
      return Malformed(std::string("device_profile.") + key + " missing");
    }
    for (const auto& item : *value) {
      if (!item.is_string()) return Malformed(std::string("device_profile.") + key + " missing");
      field->push_back(item.get<std::string>());
    }
  }
  auto length = p.find("password_length");
  if (length == p.end() || !length->is_number_integer() || length->get<int64_t>() < 12 ||
      length->get<int64_t>() > 64) {
    return Malformed("device_profile.password_length missing or outside 12..64");
  }
  out.password_length = length->get<int>();
  if (out.organization.empty()) return Malformed("device_profile.organization is empty");
  if (auto issuer = p.find("crl_issuer"); issuer != p.end()) {
    auto der = issuer->is_string() ? Base64Decode(issuer->get<std::string>()) : std::nullopt;
    if (!der || der->empty() || !x509::DirectoryNames(*der)) {
      return Malformed("device_profile.crl_issuer is not a base64 DER Name");
    }
    if (out.crl_url.empty()) return Malformed("device_profile.crl_issuer without crl_url");
    out.crl_issuer = std::move(*der);
  }
  return {};
}

}  // namespace

std::string AllowancePayload(const SignedAllowance& a) {
  const OfflineProfile& p = a.profile;
  nlohmann::json profile = {{"organization", p.organization},
                            {"device_uri_prefix", p.device_uri_prefix},
                            {"key_usage", p.key_usage},
                            {"extended_key_usage", p.extended_key_usage},
                            {"crl_url", p.crl_url},
                            {"ocsp_url", p.ocsp_url},
                            {"password_length", p.password_length}};
  if (!p.crl_issuer.empty()) profile["crl_issuer"] = Base64Encode(p.crl_issuer);
  nlohmann::json payload = {{"device_profile", profile},
                            {"allowance", a.id},
                            {"order", a.order},
                            {"station", a.station},
                            {"count", a.count},
                            {"granted_ms", a.granted_ms},
                            {"not_after_ms", a.not_after_ms},
                            {"subordinate_serial", a.subordinate_serial},
                            {"subordinate_spki_sha256", HexEncode(a.subordinate_spki_sha256)}};
  if (!a.secret_key_spki.empty()) payload["secret_key"] = Base64Encode(a.secret_key_spki);
  return payload.dump();
}

Result<SignedAllowance> VerifySignedAllowance(std::string_view jws, X509* root) {
  nlohmann::json object = nlohmann::json::parse(jws, nullptr, false);
  if (object.is_discarded() || !object.is_object()) {
    return std::unexpected(Malformed("not a JSON object").error());
  }
  IMPRINT_ASSIGN_OR_RETURN(nlohmann::json header, jose::PeekProtectedHeader(object));
  IMPRINT_ASSIGN_OR_RETURN(x509::X509Ptr signer, Signer(header, root));
  IMPRINT_ASSIGN_OR_RETURN(jose::VerifiedJws verified,
                           jose::VerifyJws(object, X509_get0_pubkey(signer.get())));
  auto typ = verified.header.find("typ");
  if (typ == verified.header.end() || *typ != kAllowanceJwsType) {
    return std::unexpected(Malformed(std::string("typ is not ") + kAllowanceJwsType).error());
  }
  nlohmann::json p = nlohmann::json::parse(verified.payload, nullptr, false);
  if (p.is_discarded() || !p.is_object()) {
    return std::unexpected(Malformed("payload is not a JSON object").error());
  }
  auto text = [&](const char* key, std::string& out) -> Status {
    auto it = p.find(key);
    if (it == p.end() || !it->is_string()) return Malformed(std::string(key) + " missing");
    out = it->get<std::string>();
    return {};
  };
  auto number = [&](const char* key, int64_t& out) -> Status {
    auto it = p.find(key);
    if (it == p.end() || !it->is_number_integer()) return Malformed(std::string(key) + " missing");
    out = it->get<int64_t>();
    return {};
  };
  SignedAllowance a;
  std::string spki_hex;
  IMPRINT_RETURN_IF_ERROR(text("allowance", a.id));
  IMPRINT_RETURN_IF_ERROR(text("order", a.order));
  IMPRINT_RETURN_IF_ERROR(text("station", a.station));
  IMPRINT_RETURN_IF_ERROR(number("count", a.count));
  IMPRINT_RETURN_IF_ERROR(number("granted_ms", a.granted_ms));
  IMPRINT_RETURN_IF_ERROR(number("not_after_ms", a.not_after_ms));
  IMPRINT_RETURN_IF_ERROR(text("subordinate_serial", a.subordinate_serial));
  IMPRINT_RETURN_IF_ERROR(text("subordinate_spki_sha256", spki_hex));
  IMPRINT_RETURN_IF_ERROR(ReadProfile(p, a.profile));
  if (!HexDecode(spki_hex, &a.subordinate_spki_sha256) || a.subordinate_spki_sha256.size() != 32) {
    return std::unexpected(Malformed("subordinate_spki_sha256 is not 32 bytes of hex").error());
  }
  if (auto key = p.find("secret_key"); key != p.end()) {
    std::optional<Bytes> der =
        key->is_string() ? Base64Decode(key->get<std::string>()) : std::nullopt;
    x509::PkeyPtr parsed;
    if (der) {
      if (auto read = x509::ParsePublicKeyDer(*der)) parsed = std::move(*read);
    }
    if (!parsed || EVP_PKEY_get_bits(parsed.get()) != 256 ||
        EVP_PKEY_get_base_id(parsed.get()) != EVP_PKEY_EC) {
      return std::unexpected(Malformed("secret_key is not a P-256 public key").error());
    }
    a.secret_key_spki = std::move(*der);
  }
  if (!IsValidIdentifier(a.id) || !IsValidIdentifier(a.order) || !IsValidIdentifier(a.station)) {
    return std::unexpected(Malformed("allowance, order or station is not an identifier").error());
  }
  if (a.count < 1 || a.not_after_ms <= a.granted_ms) {
    return std::unexpected(Malformed("count or validity out of range").error());
  }
  return a;
}

}  // namespace imprint::offline
