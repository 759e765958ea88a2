#pragma once
// CaConfig: imprint-ca's TOML configuration (docs/configuration.md lists every key).

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/secret.h"
#include "common/x509/certificate_builder.h"

namespace imprint::ca {

// Token object labels created by `imprint-ca init`.
inline constexpr const char* kRootKeyLabel = "imprint-root";
inline constexpr const char* kIssuingKeyLabel = "imprint-issuing";
inline constexpr const char* kAuditKeyLabel = "imprint-audit";
inline constexpr const char* kVerifierKeyLabel = "imprint-secret-verifier";
// ECDH key offline stations seal device passwords to (docs/offline.md); made by the first
// `allowance grant`.
inline constexpr const char* kSecretTransportKeyLabel = "imprint-secret-transport";
// Token data objects (CKO_DATA, private) kept beside the keys.
inline constexpr const char* kAuditAnchorLabel = "imprint-audit-anchor";
inline constexpr const char* kAuditPendingLabel = "imprint-audit-pending";

struct CaConfig {
  // [hsm]
  std::string module = "/usr/lib/softhsm/libsofthsm2.so";
  std::string token_uri = "pkcs11:token=imprint-ca";
  std::string pin_file;
  std::string pin_env;
  int sessions = 4;

  // [ca]
  std::string state_dir = "/var/lib/imprint-ca";
  std::string organization;
  std::string key_type = "P-256";
  std::string root_common_name;     // default "<organization> Root CA"
  std::string issuing_common_name;  // default "<organization> Issuing CA"
  std::string device_uri_prefix = "urn:imprint:device:";
  int enrollment_token_hours = 24;
  int password_length = 14;

  // [server]
  std::string listen = "127.0.0.1:7443";  // open listener: enrollment, CA chain, health
  // The station listener (client certificate required at the TLS handshake). Empty: the
  // listen host with the next port (a free port when listen's port is 0).
  std::string station_listen;
  std::vector<std::string> tls_dns_names;
  // gRPC handler threads kept waiting for calls (MAX_POLLERS); 0: gRPC's default (2).
  int threads = 32;

  // [audit]
  uint64_t checkpoint_every = 1000;

  // [store]: "sqlite" (state_dir/imprint-ca.db, one machine) or "postgres" (shared by every
  // CA node, docs/operations.md "Several CA nodes").
  std::string store_backend = "sqlite";
  std::string store_conninfo;       // libpq connection string; postgres only, required there
  std::string store_password_file;  // optional; 0600/0400 like the PIN file

  // [status]: what the CA publishes about the certificates it issued.
  int crl_validity_hours = 168;  // a CRL's nextUpdate; a new one is published at half of it
  std::string http_listen;       // HOST:PORT for GET /crl/issuing.crl and /ocsp; empty: off
  std::string crl_url;           // put in device certificates as cRLDistributionPoints
  // The CRLs beside it (docs/offline.md): devices signed offline name the first (an indirect
  // CRL), subordinate CAs the second. Default: crl_url with its last path segment replaced by
  // offline.crl and root.crl, as this CA serves them; empty when crl_url is.
  std::string offline_crl_url;
  std::string root_crl_url;
  std::string ocsp_url;  // put in device certificates as the AIA OCSP entry
  int ocsp_validity_minutes = 60;
  int ocsp_signs_per_second = 100;  // fresh OCSP signatures (cache misses, nonces) per second  //
                                    // an OCSP response's nextUpdate - thisUpdate

  // [console]: the HTTPS console and Prometheus metrics (docs/console.md).
  std::string console_listen;      // HOST:PORT (port 0: any free port); empty: off
  std::string metrics_token_file;  // bearer token for GET /metrics (0600); empty: no /metrics
  int console_session_idle_minutes = 15;  // a console session ends after this long unused

  // [est]: the EST listener (RFC 7030, docs/est.md), HTTPS with the CA's TLS identity.
  std::string est_listen;  // HOST:PORT (port 0: any free port); empty: off
  // The profile of the certificates devices renew in the field with their factory certificate.
  std::string est_operational_profile = "ldevid";
  // An operational certificate may be renewed once this share of its lifetime has passed
  // (default: its last third), or at any time once it was revoked as superseded.
  int est_renew_from_percent = 67;
  int est_reenroll_per_hour = 6;  // per device: more re-enrollments in an hour are refused

  // [attestation]: a directory of PEM certificates of TPM makers (docs/attestation.md); the
  // self-signed ones are trusted, the others help build an EK certificate's chain. Empty: no
  // device can attest its key, and no profile may require it.
  std::string tpm_roots;
  // Profiles with attestation = "tpm": their devices must prove their key lives in a TPM.
  std::set<std::string> tpm_attested_profiles;
  // [profiles.NAME]; "device", "station", "tls-server" always exist.
  std::map<std::string, x509::CertificateProfile> profiles;

  // Loads and validates `path`. INVALID_ARGUMENT names the bad key; NOT_FOUND if the file is
  // missing. Fixed keys: hsm.module, hsm.token_uri, hsm.pin_file | hsm.pin_env, ca.state_dir,
  // ca.organization, server.listen.
  static Result<CaConfig> Load(const std::string& path);

  // The token user PIN from pin_file (mode-checked) or pin_env.
  Result<Secret> ReadPin() const;

  // The /metrics bearer token from metrics_token_file (mode-checked, at least 16 characters);
  // empty when none is set.
  Result<Secret> ReadMetricsToken() const;

  // The database password from store_password_file (mode-checked); empty when none is set.
  Result<Secret> ReadStorePassword() const;

  std::string DatabasePath() const { return state_dir + "/imprint-ca.db"; }
  std::string RootPemPath() const { return state_dir + "/root.pem"; }
  std::string ChainPemPath() const { return state_dir + "/chain.pem"; }
  std::string TlsKeyPath() const { return state_dir + "/tls-key.pem"; }
  std::string TlsCertPath() const { return state_dir + "/tls-cert.pem"; }
  std::string AuditKeyPemPath() const { return state_dir + "/audit-key.pem"; }
  // Serialises audit sealing across the processes sharing this state (see AuditAnchor).
  std::string AuditLockPath() const { return state_dir + "/audit.lock"; }
  std::string IssuingCsrPath() const { return state_dir + "/issuing.csr"; }
};

// Bits of entropy of a password of `length` characters from the default alphabet.
double PasswordEntropyBits(int length);

}  // namespace imprint::ca
