#include "ca/store/schema.h"

#include <string>
#include <vector>

namespace imprint::ca {
namespace {

// Migration 1 of both stores, written once for both dialects ({INT}, {BLOB}, {WITHOUT_ROWID}
// become each one's; see Dialect). SQLite reached today's schema through migrations 2 and 3;
// PostgreSQL, which came later, starts there: its migration 1 adds their columns at once.
constexpr std::string_view kBaseTables = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL){WITHOUT_ROWID};

CREATE TABLE stations (
  name TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
  token_sha256 {BLOB},
  token_expires_ms {INT},
  cert_serial TEXT UNIQUE,
  cert_spki_sha256 {BLOB},
  created_ms {INT} NOT NULL,
  enrolled_ms {INT},
  revoked_ms {INT}
){WITHOUT_ROWID};

CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  product TEXT NOT NULL,
  quota {INT} NOT NULL CHECK (quota >= 0),
  issued {INT} NOT NULL DEFAULT 0,
  verified {INT} NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  created_ms {INT} NOT NULL,
  closed_ms {INT},
  CHECK (issued <= quota)
){WITHOUT_ROWID};

CREATE TABLE order_stations (
  order_id TEXT NOT NULL REFERENCES orders(id),
  station TEXT NOT NULL REFERENCES stations(name),
  PRIMARY KEY (order_id, station)
){WITHOUT_ROWID};

CREATE TABLE devices (
  device_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  station TEXT NOT NULL,
  profile TEXT NOT NULL,
  serial_hex TEXT NOT NULL UNIQUE,
  spki_sha256 {BLOB} NOT NULL UNIQUE,
  certificate_der {BLOB} NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('issued', 'verified', 'failed')),
  issued_ms {INT} NOT NULL,
  issue_audit_seq {INT} NOT NULL,
  reported_ms {INT},
  report_audit_seq {INT}
);

CREATE TABLE secret_verifiers (
  device_id TEXT NOT NULL REFERENCES devices(device_id),
  name TEXT NOT NULL,
  verifier {BLOB} NOT NULL,
  generation {INT} NOT NULL,
  issued_ms {INT} NOT NULL,
  PRIMARY KEY (device_id, name)
){WITHOUT_ROWID};

CREATE TABLE audit_log (
  seq {INT} PRIMARY KEY,
  time_ms {INT} NOT NULL,
  actor TEXT NOT NULL,
  event TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash {BLOB} NOT NULL,
  hash {BLOB} NOT NULL
);

CREATE TABLE audit_checkpoints (
  seq {INT} PRIMARY KEY,
  time_ms {INT} NOT NULL,
  hash {BLOB} NOT NULL,
  signature {BLOB} NOT NULL
);
)sql";

// Format v2 (docs/audit-format.md): each checkpoint names the one before it.
constexpr std::string_view kCheckpointChain = R"sql(
ALTER TABLE audit_checkpoints ADD COLUMN prev_seq {INT} NOT NULL DEFAULT 0;
ALTER TABLE audit_checkpoints ADD COLUMN prev_hash {BLOB} NOT NULL DEFAULT {EMPTY_BLOB};
)sql";

// The CA decides "verified": each device gets a challenge its proof must sign. SQLite rows from
// before get one from SQLite's generator (new ones come from the HSM). A device's station
// ('' once an operator resets it) owns it until it is verified.
constexpr std::string_view kSqliteChallenge = R"sql(
ALTER TABLE devices ADD COLUMN challenge BLOB;
UPDATE devices SET challenge = randomblob(32) WHERE challenge IS NULL;
)sql";
constexpr std::string_view kPostgresChallenge = R"sql(
ALTER TABLE devices ADD COLUMN challenge BYTEA;
CREATE INDEX devices_order ON devices (order_id);
)sql";

// Revocation (docs/operations.md "Revocation").
constexpr std::string_view kRevocationTables = R"sql(
-- Revoked certificates (devices', and those a rework superseded): what CRLs and OCSP answer.
CREATE TABLE revocations (
  serial_hex TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  order_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  revoked_ms {INT} NOT NULL,
  invalidity_ms {INT},
  audit_seq {INT} NOT NULL
);
CREATE INDEX revocations_device ON revocations (device_id);
CREATE INDEX revocations_order ON revocations (order_id);
-- Certificates a device had before a rework: kept for the record (and the CRL, via revocations).
CREATE TABLE device_history (
  serial_hex TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  order_id TEXT NOT NULL,
  station TEXT NOT NULL,
  certificate_der {BLOB} NOT NULL,
  issued_ms {INT} NOT NULL,
  issue_audit_seq {INT} NOT NULL,
  reworked_ms {INT} NOT NULL,
  rework_audit_seq {INT} NOT NULL
);
CREATE INDEX device_history_device ON device_history (device_id);
-- The newest CRL (one row). `changes` counts revocation changes; the CRL is current when
-- `published_changes` equals it. `number` only grows (RFC 5280 5.2.3).
CREATE TABLE crl_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  number {INT} NOT NULL,
  changes {INT} NOT NULL,
  published_changes {INT} NOT NULL,
  this_update_ms {INT} NOT NULL,
  next_update_ms {INT} NOT NULL,
  der {BLOB}
);
INSERT INTO crl_state (id, number, changes, published_changes, this_update_ms, next_update_ms)
  VALUES (1, 0, 1, 0, 0, 0);
)sql";

// The hand-over exports read an order's devices in device-id order (ca/export_rows.h).
constexpr std::string_view kExportIndex =
    "CREATE INDEX devices_order_device ON devices (order_id, device_id);";

// The console's line page finds the last hour's failures by event and time, however many other
// records (a flood of refusals) came after them.
constexpr std::string_view kAuditEventIndex =
    "CREATE INDEX audit_log_event_time ON audit_log (event, time_ms);";

// Console users (docs/console.md): password hashes only (scrypt, parameters and salt in the
// string), and whether the one-time initial password must still be changed.
constexpr std::string_view kConsoleUsers = R"sql(
CREATE TABLE console_users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'operator')),
  password_hash TEXT NOT NULL,
  must_change {INT} NOT NULL,
  created_ms {INT} NOT NULL,
  changed_ms {INT}
);
-- The console's "line now" reads the last ten minutes of issuance.
CREATE INDEX devices_issued ON devices (issued_ms);
)sql";

// Offline allowances (ca/allowance, docs/offline.md): a station's permission to issue `count`
// certificates of one order without the CA until not_after_ms. A grant moves its count from
// the order's remainder into `reserved`, so online issuance sees issued + reserved <= quota;
// `used` counts the allowance's devices recorded at reconciliation. At most one live allowance
// per order and station.
constexpr std::string_view kAllowances = R"sql(
ALTER TABLE orders ADD COLUMN reserved {INT} NOT NULL DEFAULT 0;
CREATE TABLE allowances (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  station TEXT NOT NULL REFERENCES stations(name),
  count {INT} NOT NULL CHECK (count > 0),
  used {INT} NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= count),
  status TEXT NOT NULL CHECK (status IN ('granted', 'revoked')),
  granted_ms {INT} NOT NULL,
  not_after_ms {INT} NOT NULL,
  granted_audit_seq {INT} NOT NULL,
  revoked_ms {INT},
  revoke_reason TEXT
);
CREATE UNIQUE INDEX allowances_live ON allowances (order_id, station) WHERE status = 'granted';
)sql";

// What `fetch` gives a station for its allowance: the subordinate CA certificate for the key it
// made in its token (at most one key per allowance; a second fetch returns the same) and the
// signed allowance (a JWS from the root's document signer). Reconcile's progress through the
// station's log (the last entry recorded and its chain hash), and the violations it found.
constexpr std::string_view kAllowanceOffline = R"sql(
ALTER TABLE allowances ADD COLUMN subordinate_der {BLOB};
ALTER TABLE allowances ADD COLUMN subordinate_serial TEXT;
ALTER TABLE allowances ADD COLUMN subordinate_spki_sha256 {BLOB};
ALTER TABLE allowances ADD COLUMN signed_allowance TEXT;
ALTER TABLE allowances ADD COLUMN fetched_ms {INT};
ALTER TABLE allowances ADD COLUMN reconciled_seq {INT} NOT NULL DEFAULT 0;
ALTER TABLE allowances ADD COLUMN reconciled_hash {BLOB};
CREATE TABLE allowance_violations (
  allowance_id TEXT NOT NULL REFERENCES allowances(id),
  seq {INT} NOT NULL,
  reason TEXT NOT NULL,
  reported_by TEXT NOT NULL,
  recorded_ms {INT} NOT NULL
);
CREATE INDEX allowance_violations_by_allowance ON allowance_violations (allowance_id);
)sql";

// Status for devices the CA did not sign (docs/offline.md): a device recorded at reconcile names
// its allowance (its issuer is that allowance's subordinate CA; NULL: the issuing CA), and the
// allowance keeps the certificate its subordinate gave the CA's OCSP responder key.
constexpr std::string_view kOfflineStatus = R"sql(
ALTER TABLE devices ADD COLUMN allowance_id TEXT REFERENCES allowances(id);
ALTER TABLE allowances ADD COLUMN ocsp_delegate_der {BLOB};
)sql";

// CRLs beside the issuing CA's (crl_state): the indirect CRL of devices stations signed offline
// and the root's CRL of revoked subordinates, each with its own number; both are stale when
// crl_state's `changes` is past their `published_changes`. A former certificate keeps the
// allowance it was issued under, so its revocation is published by its own issuer's list.
constexpr std::string_view kCrlLists = R"sql(
ALTER TABLE device_history ADD COLUMN allowance_id TEXT REFERENCES allowances(id);
CREATE TABLE crl_lists (
  name TEXT PRIMARY KEY CHECK (name IN ('offline', 'root')),
  number {INT} NOT NULL,
  published_changes {INT} NOT NULL,
  this_update_ms {INT} NOT NULL,
  next_update_ms {INT} NOT NULL,
  der {BLOB}
);
INSERT INTO crl_lists (name, number, published_changes, this_update_ms, next_update_ms)
  VALUES ('offline', 0, 0, 0, 0);
INSERT INTO crl_lists (name, number, published_changes, this_update_ms, next_update_ms)
  VALUES ('root', 0, 0, 0, 0);
)sql";

// The subordinate certified again by the root without end (ca/allowance/renewal.h), once the
// brand owner renews it, so its devices verify after the allowance's window.
constexpr std::string_view kSubordinateRenewal = R"sql(
ALTER TABLE allowances ADD COLUMN renewed_der {BLOB};
ALTER TABLE allowances ADD COLUMN renewed_serial TEXT;
)sql";

// Matter (ca/matter, docs/matter.md): Product Attestation Intermediates whose keys live in the
// token, orders that make Matter devices under one of them, and each device's commissioning
// data. Neither the passcode nor its SPAKE2+ verifier is kept (27 bits: a verifier and its salt
// give the passcode away to a brute force): passcode_mac is the verifier key's HMAC of the order
// and the passcode, so a repeat within an order is found without either.
constexpr std::string_view kMatter = R"sql(
CREATE TABLE matter_pais (
  label TEXT PRIMARY KEY,
  vendor_id {INT} NOT NULL,
  product_id {INT},
  status TEXT NOT NULL CHECK (status IN ('pending', 'active')),
  csr_der {BLOB} NOT NULL,
  certificate_der {BLOB},
  paa_der {BLOB},
  created_ms {INT} NOT NULL,
  imported_ms {INT},
  crl_number {INT} NOT NULL DEFAULT 0
){WITHOUT_ROWID};
CREATE TABLE matter_orders (
  order_id TEXT PRIMARY KEY REFERENCES orders(id),
  pai_label TEXT NOT NULL REFERENCES matter_pais(label),
  vendor_id {INT} NOT NULL,
  product_id {INT} NOT NULL,
  cd_der {BLOB} NOT NULL,
  iterations {INT} NOT NULL,
  discriminator {INT}
){WITHOUT_ROWID};
CREATE TABLE matter_devices (
  device_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  passcode_mac {BLOB} NOT NULL,
  discriminator {INT} NOT NULL,
  salt {BLOB} NOT NULL,
  iterations {INT} NOT NULL,
  UNIQUE (order_id, passcode_mac)
){WITHOUT_ROWID};
)sql";

// Migration 13 (SQLite) / 11 (PostgreSQL): the evidence that a device's key lives in its TPM
// (docs/attestation.md), kept whole so a buyer can check it again: the EK certificate, the AK's
// and the device key's public areas, the certify structure and the AK's signature over it; and
// an order's own attestation policy ("tpm": every device must bring that evidence).
constexpr std::string_view kTpmAttestations = R"sql(
CREATE TABLE device_attestations (
  device_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('tpm')),
  ek_sha256 {BLOB} NOT NULL,
  ek_issuer TEXT NOT NULL,
  ek_certificate_der {BLOB} NOT NULL,
  ak_name {BLOB} NOT NULL,
  ak_public {BLOB} NOT NULL,
  key_public {BLOB} NOT NULL,
  certify_info {BLOB} NOT NULL,
  certify_signature {BLOB} NOT NULL
){WITHOUT_ROWID};
ALTER TABLE orders ADD COLUMN attestation TEXT NOT NULL DEFAULT 'none'
  CHECK (attestation IN ('none', 'tpm'));
)sql";

// Migration 14 (SQLite) / 12 (PostgreSQL): operational certificates a device got in the field
// over EST (docs/est.md), authenticated by its factory certificate or an earlier one of these;
// revoking the device revokes them too (ca/revocation/revocation.cc).
constexpr std::string_view kOperationalCertificates = R"sql(
CREATE TABLE operational_certificates (
  serial_hex TEXT PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices(device_id),
  profile TEXT NOT NULL,
  certificate_der {BLOB} NOT NULL,
  spki_sha256 {BLOB} NOT NULL,
  not_before_ms {INT} NOT NULL,
  not_after_ms {INT} NOT NULL,
  authenticated_by TEXT NOT NULL,
  audit_seq {INT} NOT NULL
){WITHOUT_ROWID};
CREATE INDEX operational_certificates_device ON operational_certificates (device_id);
)sql";

// Migration 15 (SQLite) / 13 (PostgreSQL): labels bound to their devices by scan-back
// (docs/labels.md), and orders that may close only once every verified device has one.
constexpr std::string_view kLabels = R"sql(
ALTER TABLE devices ADD COLUMN label_code TEXT;
ALTER TABLE devices ADD COLUMN label_bound_ms {INT};
ALTER TABLE devices ADD COLUMN label_station TEXT;
ALTER TABLE devices ADD COLUMN label_audit_seq {INT};
ALTER TABLE orders ADD COLUMN require_labels {INT} NOT NULL DEFAULT 0;
)sql";

struct SqlDialect {
  std::string_view integer, blob, without_rowid, empty_blob;
};
constexpr SqlDialect kSqlite{"INTEGER", "BLOB", " WITHOUT ROWID", "x''"};
constexpr SqlDialect kPostgres{"BIGINT", "BYTEA", "", "''::bytea"};

std::string Dialect(std::string_view text, const SqlDialect& d) {
  std::string out(text);
  for (auto [from, to] : {std::pair{std::string_view("{INT}"), d.integer},
                          std::pair{std::string_view("{BLOB}"), d.blob},
                          std::pair{std::string_view("{WITHOUT_ROWID}"), d.without_rowid},
                          std::pair{std::string_view("{EMPTY_BLOB}"), d.empty_blob}}) {
    for (size_t at = out.find(from); at != std::string::npos; at = out.find(from, at)) {
      out.replace(at, from.size(), to);
      at += to.size();
    }
  }
  return out;
}

}  // namespace

std::span<const sql::Migration> CaMigrations(std::string_view backend) {
  // SQLite's migrations 4 to 15 are PostgreSQL's 2 to 13.
  static const std::string sqlite_base = Dialect(kBaseTables, kSqlite);
  static const std::string sqlite_chain = Dialect(kCheckpointChain, kSqlite);
  static const std::string sqlite_revocation = Dialect(kRevocationTables, kSqlite);
  static const std::string sqlite_console = Dialect(kConsoleUsers, kSqlite);
  static const std::string postgres_base = Dialect(kBaseTables, kPostgres) +
                                           Dialect(kCheckpointChain, kPostgres) +
                                           std::string(kPostgresChallenge);
  static const std::string postgres_revocation = Dialect(kRevocationTables, kPostgres);
  static const std::string postgres_console = Dialect(kConsoleUsers, kPostgres);
  static const std::string sqlite_allowances = Dialect(kAllowances, kSqlite);
  static const std::string postgres_allowances = Dialect(kAllowances, kPostgres);
  static const std::string sqlite_fetch = Dialect(kAllowanceOffline, kSqlite);
  static const std::string postgres_fetch = Dialect(kAllowanceOffline, kPostgres);
  static const std::string sqlite_status = Dialect(kOfflineStatus, kSqlite);
  static const std::string postgres_status = Dialect(kOfflineStatus, kPostgres);
  static const std::string sqlite_crl_lists =
      Dialect(kCrlLists, kSqlite) + Dialect(kSubordinateRenewal, kSqlite);
  static const std::string postgres_crl_lists =
      Dialect(kCrlLists, kPostgres) + Dialect(kSubordinateRenewal, kPostgres);
  static const std::string sqlite_matter = Dialect(kMatter, kSqlite);
  static const std::string postgres_matter = Dialect(kMatter, kPostgres);
  static const std::string sqlite_tpm = Dialect(kTpmAttestations, kSqlite);
  static const std::string postgres_tpm = Dialect(kTpmAttestations, kPostgres);
  static const std::string sqlite_operational = Dialect(kOperationalCertificates, kSqlite);
  static const std::string postgres_operational = Dialect(kOperationalCertificates, kPostgres);
  static const std::string sqlite_labels = Dialect(kLabels, kSqlite);
  static const std::string postgres_labels = Dialect(kLabels, kPostgres);
  static const std::vector<sql::Migration> sqlite = {
      {1, sqlite_base},  {2, sqlite_chain},        {3, kSqliteChallenge},  {4, sqlite_revocation},
      {5, kExportIndex}, {6, sqlite_console},      {7, kAuditEventIndex},  {8, sqlite_allowances},
      {9, sqlite_fetch}, {10, sqlite_status},      {11, sqlite_crl_lists}, {12, sqlite_matter},
      {13, sqlite_tpm},  {14, sqlite_operational}, {15, sqlite_labels},
  };
  static const std::vector<sql::Migration> postgres = {
      {1, postgres_base},    {2, postgres_revocation}, {3, kExportIndex},
      {4, postgres_console}, {5, kAuditEventIndex},    {6, postgres_allowances},
      {7, postgres_fetch},   {8, postgres_status},     {9, postgres_crl_lists},
      {10, postgres_matter}, {11, postgres_tpm},       {12, postgres_operational},
      {13, postgres_labels},
  };
  return backend == "postgres" ? postgres : sqlite;
}

std::string_view CaTables() {
  return "allowance_violations, allowances, console_users, crl_lists, crl_state, "
         "device_attestations, "
         "device_history, "
         "matter_devices, matter_orders, matter_pais, operational_certificates, revocations, "
         "secret_verifiers, "
         "devices, order_stations, orders, stations, audit_checkpoints, audit_log, meta, "
         "imprint_schema";
}

}  // namespace imprint::ca
