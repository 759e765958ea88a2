#include "ca/config.h"

#include <libpq-fe.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "ca/secret_generator.h"
#include "common/pkcs11/uri.h"

namespace imprint::ca {
namespace {

Status Invalid(const std::string& key, const std::string& why) {
  return Fail(Code::kInvalidArgument, "config " + key + ": " + why);
}

template <typename T>
Status Read(const toml::table& root, const char* section, const char* key, T& out) {
  auto node = root[section][key];
  if (!node) return {};
  if constexpr (std::is_same_v<T, std::string>) {
    auto v = node.template value_exact<std::string>();
    if (!v) return Invalid(std::string(section) + "." + key, "must be a string");
    out = *v;
  } else {
    // Exactly an integer (not a float or a string), and one that fits: never narrowed.
    auto v = node.template value_exact<int64_t>();
    auto max = static_cast<int64_t>(
        std::min<uint64_t>(std::numeric_limits<T>::max(), std::numeric_limits<int64_t>::max()));
    if (!v || *v < 0 || *v > max) {
      return Invalid(std::string(section) + "." + key,
                     "must be an integer from 0 to " + std::to_string(max));
    }
    out = static_cast<T>(*v);
  }
  return {};
}

// Every key of `table` must be one of `known`: a misspelt key would otherwise be ignored and
// its default used without a word.
Status RejectUnknown(const toml::table& table, const std::string& prefix,
                     const std::vector<std::string_view>& known) {
  for (const auto& [key, node] : table) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || key.str() == k;
    if (!ok) return Invalid(prefix + std::string(key.str()), "unknown key");
  }
  return {};
}

Status RejectUnknownKeys(const toml::table& root) {
  IMPRINT_RETURN_IF_ERROR(RejectUnknown(root, "",
                                        {"hsm", "ca", "server", "audit", "store", "status",
                                         "console", "attestation", "profiles", "est"}));
  const std::pair<const char*, std::vector<std::string_view>> sections[] = {
      {"hsm", {"module", "token_uri", "pin_file", "pin_env", "sessions"}},
      {"ca",
       {"state_dir", "organization", "key_type", "root_common_name", "issuing_common_name",
        "device_uri_prefix", "enrollment_token_hours", "password_length"}},
      {"server", {"listen", "station_listen", "threads", "tls_dns_names"}},
      {"audit", {"checkpoint_every"}},
      {"store", {"backend", "conninfo", "password_file"}},
      {"status",
       {"crl_validity_hours", "http_listen", "crl_url", "offline_crl_url", "root_crl_url",
        "ocsp_url", "ocsp_validity_minutes", "ocsp_signs_per_second"}},
      {"console", {"listen", "metrics_token_file", "session_idle_minutes"}},
      {"attestation", {"tpm_roots"}},
      {"est", {"listen", "operational_profile", "renew_from_percent", "reenroll_per_hour"}},
  };
  for (const auto& [section, known] : sections) {
    auto node = root[section];
    if (!node) continue;
    const toml::table* table = node.as_table();
    if (table == nullptr) return Invalid(section, "must be a table");
    IMPRINT_RETURN_IF_ERROR(RejectUnknown(*table, std::string(section) + ".", known));
  }
  return {};
}

// An optional integer profile setting; INVALID_ARGUMENT when present but not an integer.
Result<std::optional<int64_t>> ProfileInt(const toml::table& profile, const std::string& key,
                                          const char* name) {
  auto node = profile[name];
  if (!node) return std::optional<int64_t>();
  auto v = node.value_exact<int64_t>();
  if (!v) return std::unexpected(Invalid(key + "." + name, "must be an integer").error());
  return std::optional<int64_t>(*v);
}

Result<std::vector<std::string>> StringList(const toml::node* node, const std::string& key) {
  std::vector<std::string> out;
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array == nullptr) return std::unexpected(Invalid(key, "must be a list of strings").error());
  for (const auto& item : *array) {
    auto v = item.value<std::string>();
    if (!v) return std::unexpected(Invalid(key, "must be a list of strings").error());
    out.push_back(*v);
  }
  return out;
}

std::map<std::string, x509::CertificateProfile> DefaultProfiles() {
  x509::CertificateProfile device;
  device.key_usage = {"digitalSignature"};
  device.extended_key_usage = {"clientAuth"};
  x509::CertificateProfile station = device;
  station.lifetime = std::chrono::days(3 * 365);
  x509::CertificateProfile tls = device;
  tls.extended_key_usage = {"serverAuth"};
  tls.lifetime = std::chrono::days(2 * 365);
  // An operational certificate a device renews in the field over EST (docs/est.md).
  x509::CertificateProfile ldevid = device;
  ldevid.lifetime = std::chrono::days(365);
  return {{"device", device}, {"station", station}, {"tls-server", tls}, {"ldevid", ldevid}};
}

Status ReadProfiles(const toml::table& root, CaConfig& config) {
  const toml::table* profiles = root["profiles"].as_table();
  if (profiles == nullptr) return {};
  for (const auto& [name, node] : *profiles) {
    std::string key = "profiles." + std::string(name.str());
    const toml::table* t = node.as_table();
    if (t == nullptr) return Invalid(key, "must be a table");
    x509::CertificateProfile profile = config.profiles.contains(std::string(name.str()))
                                           ? config.profiles[std::string(name.str())]
                                           : x509::CertificateProfile{};
    const toml::table& pt = *t;
    IMPRINT_RETURN_IF_ERROR(RejectUnknown(
        pt, key + ".",
        {"key_usage", "extended_key_usage", "validity_days", "backdate_seconds", "attestation"}));
    if (pt["attestation"]) {
      std::string attestation = pt["attestation"].value_or(std::string());
      if (attestation != "tpm" && attestation != "none") {
        return Invalid(key + ".attestation", "must be \"tpm\" or \"none\"");
      }
      if (attestation == "tpm") {
        config.tpm_attested_profiles.insert(std::string(name.str()));
      } else {
        config.tpm_attested_profiles.erase(std::string(name.str()));
      }
    }
    if (pt["key_usage"]) {
      IMPRINT_ASSIGN_OR_RETURN(profile.key_usage,
                               StringList(pt["key_usage"].node(), key + ".key_usage"));
    }
    if (pt["extended_key_usage"]) {
      IMPRINT_ASSIGN_OR_RETURN(
          profile.extended_key_usage,
          StringList(pt["extended_key_usage"].node(), key + ".extended_key_usage"));
    }
    IMPRINT_ASSIGN_OR_RETURN(auto days, ProfileInt(pt, key, "validity_days"));
    if (days) {
      if (*days < 0 || *days > 36500) {
        return Invalid(key + ".validity_days", "must be from 0 (no expiry) to 36500");
      }
      profile.lifetime =
          *days == 0 ? std::nullopt : std::optional<std::chrono::days>(std::chrono::days(*days));
    }
    IMPRINT_ASSIGN_OR_RETURN(auto backdate, ProfileInt(pt, key, "backdate_seconds"));
    if (backdate) {
      if (*backdate < 0 || *backdate > 86400) {
        return Invalid(key + ".backdate_seconds", "must be between 0 and 86400");
      }
      profile.backdate = std::chrono::seconds(*backdate);
    }
    profile.is_ca = false;  // profiles describe end-entity certificates only
    config.profiles[std::string(name.str())] = profile;
  }
  return {};
}

Status ValidateStore(const CaConfig& c) {
  if (c.store_backend == "sqlite") {
    if (!c.store_conninfo.empty() || !c.store_password_file.empty()) {
      return Invalid("store.conninfo/store.password_file", "only for backend = \"postgres\"");
    }
    return {};
  }
  if (c.store_backend != "postgres") return Invalid("store.backend", "must be sqlite or postgres");
  if (c.store_conninfo.empty()) return Invalid("store.conninfo", "is required for postgres");
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(c.store_conninfo.c_str(), &error);
  if (options == nullptr) {
    // libpq's message names the bad part of the string; the string may hold a password, so
    // it is not repeated.
    std::string why = error != nullptr ? error : "cannot be parsed";
    if (error != nullptr) PQfreemem(error);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Invalid("store.conninfo", why);
  }
  bool has_password = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) has_password = true;
  }
  PQconninfoFree(options);
  if (has_password) {
    return Invalid("store.conninfo",
                   "holds a password; put it in store.password_file (0600) instead, so that it "
                   "is never in the config or a log");
  }
  return {};
}

// `url` with its last path segment replaced by `file`: http://pki/crl/issuing.crl and
// offline.crl give http://pki/crl/offline.crl.
std::string SiblingUrl(const std::string& url, const std::string& file) {
  size_t path = url.find('/', std::string_view("http://").size());
  if (path == std::string::npos) return url + "/" + file;
  return url.substr(0, url.rfind('/') + 1) + file;
}

Status Validate(CaConfig& c) {
  if (c.organization.empty()) return Invalid("ca.organization", "is required");
  if (c.pin_file.empty() && c.pin_env.empty()) {
    // RFC 7512 pin-source in the token URI stands in for hsm.pin_file.
    auto uri = p11::Uri::Parse(c.token_uri);
    if (!uri) return Invalid("hsm.token_uri", uri.error().message());
    if (uri->pin_source) c.pin_file = *uri->pin_source;
  }
  if (c.pin_file.empty() == c.pin_env.empty()) {
    return Invalid("hsm.pin_file/hsm.pin_env", "exactly one must be set");
  }
  if (c.state_dir.empty()) return Invalid("ca.state_dir", "is required");
  if (c.key_type != "P-256" && c.key_type != "P-384" && c.key_type != "RSA-3072") {
    return Invalid("ca.key_type", "must be P-256, P-384 or RSA-3072");
  }
  if (c.sessions < 1 || c.sessions > 64) return Invalid("hsm.sessions", "must be 1..64");
  if (c.crl_validity_hours < 1 || c.crl_validity_hours > 24 * 366) {
    return Invalid("status.crl_validity_hours", "must be 1..8784 (a year)");
  }
  if (c.ocsp_signs_per_second < 1 || c.ocsp_signs_per_second > 100000) {
    return Invalid("status.ocsp_signs_per_second", "must be 1..100000");
  }
  if (c.ocsp_validity_minutes < 1 || c.ocsp_validity_minutes > 7 * 24 * 60) {
    return Invalid("status.ocsp_validity_minutes", "must be 1..10080 (a week)");
  }
  for (const auto& [key, url] :
       {std::pair{"status.crl_url", &c.crl_url}, std::pair{"status.ocsp_url", &c.ocsp_url},
        std::pair{"status.offline_crl_url", &c.offline_crl_url},
        std::pair{"status.root_crl_url", &c.root_crl_url}}) {
    if (!url->empty() && !url->starts_with("http://")) {
      return Invalid(key,
                     "must be an http:// URL (RFC 5280 4.2.1.13: relying parties fetch "
                     "CRLs and OCSP over plain HTTP)");
    }
    if (url->find_first_of(" ,\"\\\n") != std::string::npos) return Invalid(key, "is not a URL");
  }
  if (c.checkpoint_every < 1 || c.checkpoint_every > 1000000) {
    return Invalid("audit.checkpoint_every", "must be 1..1000000");
  }
  if (c.enrollment_token_hours < 1 || c.enrollment_token_hours > 8760) {
    return Invalid("ca.enrollment_token_hours", "must be 1..8760");
  }
  if (c.threads > 1024) return Invalid("server.threads", "must be 0..1024");
  if (c.console_session_idle_minutes < 1 || c.console_session_idle_minutes > 1440) {
    return Invalid("console.session_idle_minutes", "must be 1..1440");
  }
  if (!c.metrics_token_file.empty() && c.console_listen.empty()) {
    return Invalid("console.metrics_token_file", "needs console.listen (metrics are served there)");
  }
  if (PasswordEntropyBits(c.password_length) < 64.0 || c.password_length > 64) {
    return Invalid("ca.password_length", "must give at least 64 bits (>= 12) and be <= 64");
  }
  IMPRINT_RETURN_IF_ERROR(ValidateStore(c));
  if (c.root_common_name.empty()) c.root_common_name = c.organization + " Root CA";
  if (c.issuing_common_name.empty()) c.issuing_common_name = c.organization + " Issuing CA";
  return {};
}

}  // namespace

double PasswordEntropyBits(int length) {
  return length * std::log2(static_cast<double>(kPasswordAlphabet.size()));
}

Result<CaConfig> CaConfig::Load(const std::string& path) {
  if (!std::filesystem::exists(path)) return Fail(Code::kNotFound, "config " + path + " not found");
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Fail(Code::kInvalidArgument, "config " + path + ": " + std::string(e.description()) +
                                            " at line " + std::to_string(e.source().begin.line));
  }
  IMPRINT_RETURN_IF_ERROR(RejectUnknownKeys(root));
  CaConfig c;
  c.profiles = DefaultProfiles();
  IMPRINT_RETURN_IF_ERROR(Read(root, "hsm", "module", c.module));
  IMPRINT_RETURN_IF_ERROR(Read(root, "hsm", "token_uri", c.token_uri));
  IMPRINT_RETURN_IF_ERROR(Read(root, "hsm", "pin_file", c.pin_file));
  IMPRINT_RETURN_IF_ERROR(Read(root, "hsm", "pin_env", c.pin_env));
  IMPRINT_RETURN_IF_ERROR(Read(root, "hsm", "sessions", c.sessions));
  IMPRINT_RETURN_IF_ERROR(Read(root, "ca", "state_dir", c.state_dir));
  IMPRINT_RETURN_IF_ERROR(Read(root, "ca", "organization", c.organization));
  IMPRINT_RETURN_IF_ERROR(Read(root, "ca", "key_type", c.key_type));
  IMPRINT_RETURN_IF_ERROR(Read(root, "ca", "root_common_name", c.root_common_name));
  IMPRINT_RETURN_IF_ERROR(Read(root, "ca", "issuing_common_name", c.issuing_common_name));
  IMPRINT_RETURN_IF_ERROR(Read(root, "ca", "device_uri_prefix", c.device_uri_prefix));
  IMPRINT_RETURN_IF_ERROR(Read(root, "ca", "enrollment_token_hours", c.enrollment_token_hours));
  IMPRINT_RETURN_IF_ERROR(Read(root, "ca", "password_length", c.password_length));
  IMPRINT_RETURN_IF_ERROR(Read(root, "server", "listen", c.listen));
  IMPRINT_RETURN_IF_ERROR(Read(root, "server", "station_listen", c.station_listen));
  IMPRINT_RETURN_IF_ERROR(Read(root, "server", "threads", c.threads));
  IMPRINT_RETURN_IF_ERROR(Read(root, "audit", "checkpoint_every", c.checkpoint_every));
  IMPRINT_RETURN_IF_ERROR(Read(root, "status", "crl_validity_hours", c.crl_validity_hours));
  IMPRINT_RETURN_IF_ERROR(Read(root, "status", "http_listen", c.http_listen));
  IMPRINT_RETURN_IF_ERROR(Read(root, "status", "crl_url", c.crl_url));
  IMPRINT_RETURN_IF_ERROR(Read(root, "status", "offline_crl_url", c.offline_crl_url));
  IMPRINT_RETURN_IF_ERROR(Read(root, "status", "root_crl_url", c.root_crl_url));
  if (!c.crl_url.empty()) {
    if (c.offline_crl_url.empty()) c.offline_crl_url = SiblingUrl(c.crl_url, "offline.crl");
    if (c.root_crl_url.empty()) c.root_crl_url = SiblingUrl(c.crl_url, "root.crl");
  }
  IMPRINT_RETURN_IF_ERROR(Read(root, "status", "ocsp_url", c.ocsp_url));
  IMPRINT_RETURN_IF_ERROR(Read(root, "status", "ocsp_validity_minutes", c.ocsp_validity_minutes));
  IMPRINT_RETURN_IF_ERROR(Read(root, "status", "ocsp_signs_per_second", c.ocsp_signs_per_second));
  IMPRINT_RETURN_IF_ERROR(Read(root, "console", "listen", c.console_listen));
  IMPRINT_RETURN_IF_ERROR(Read(root, "console", "metrics_token_file", c.metrics_token_file));
  IMPRINT_RETURN_IF_ERROR(
      Read(root, "console", "session_idle_minutes", c.console_session_idle_minutes));
  IMPRINT_RETURN_IF_ERROR(Read(root, "store", "backend", c.store_backend));
  IMPRINT_RETURN_IF_ERROR(Read(root, "store", "conninfo", c.store_conninfo));
  IMPRINT_RETURN_IF_ERROR(Read(root, "store", "password_file", c.store_password_file));
  IMPRINT_ASSIGN_OR_RETURN(
      c.tls_dns_names, StringList(root["server"]["tls_dns_names"].node(), "server.tls_dns_names"));
  IMPRINT_RETURN_IF_ERROR(Read(root, "attestation", "tpm_roots", c.tpm_roots));
  IMPRINT_RETURN_IF_ERROR(Read(root, "est", "listen", c.est_listen));
  IMPRINT_RETURN_IF_ERROR(Read(root, "est", "operational_profile", c.est_operational_profile));
  IMPRINT_RETURN_IF_ERROR(Read(root, "est", "renew_from_percent", c.est_renew_from_percent));
  IMPRINT_RETURN_IF_ERROR(Read(root, "est", "reenroll_per_hour", c.est_reenroll_per_hour));
  if (c.est_renew_from_percent < 0 || c.est_renew_from_percent > 100) {
    return std::unexpected(Invalid("est.renew_from_percent", "must be 0..100").error());
  }
  if (c.est_reenroll_per_hour < 1 || c.est_reenroll_per_hour > 3600) {
    return std::unexpected(Invalid("est.reenroll_per_hour", "must be 1..3600").error());
  }
  IMPRINT_RETURN_IF_ERROR(ReadProfiles(root, c));
  if (!c.tpm_attested_profiles.empty() && c.tpm_roots.empty()) {
    return std::unexpected(
        Invalid("attestation.tpm_roots", "is required when a profile sets attestation = \"tpm\"")
            .error());
  }
  IMPRINT_RETURN_IF_ERROR(Validate(c));
  if (!c.profiles.contains(c.est_operational_profile)) {
    return std::unexpected(
        Invalid("est.operational_profile", "names no profile: " + c.est_operational_profile)
            .error());
  }
  // Device certificates (every profile but the CA's own station and TLS ones) say where their
  // status is published, when it is.
  for (auto& [name, profile] : c.profiles) {
    if (name == "station" || name == "tls-server") continue;
    profile.crl_url = c.crl_url;
    profile.ocsp_url = c.ocsp_url;
  }
  return c;
}

Result<Secret> CaConfig::ReadStorePassword() const {
  if (store_password_file.empty()) return Secret();
  return ReadPinFile(store_password_file);
}

Result<Secret> CaConfig::ReadMetricsToken() const {
  if (metrics_token_file.empty()) return Secret();
  IMPRINT_ASSIGN_OR_RETURN(Secret token, ReadPinFile(metrics_token_file));
  if (token.size() < 16) {
    return Fail(Code::kInvalidArgument,
                "console.metrics_token_file holds fewer than 16 characters: use a long random "
                "token (e.g. openssl rand -hex 32)");
  }
  return token;
}

Result<Secret> CaConfig::ReadPin() const {
  if (!pin_file.empty()) return ReadPinFile(pin_file);
  return ReadPinEnv(pin_env);
}

}  // namespace imprint::ca
