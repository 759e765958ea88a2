#include "ca/store/schema.h"

#include <string>
#include <vector>

namespace imprint::ca {
namespace {

constexpr sql::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE stations (
  name TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
  token_sha256 BLOB,
  token_expires_ms INTEGER,
  cert_serial TEXT UNIQUE,
  cert_spki_sha256 BLOB,
  created_ms INTEGER NOT NULL,
  enrolled_ms INTEGER,
  revoked_ms INTEGER
) WITHOUT ROWID;

CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  product TEXT NOT NULL,
  quota INTEGER NOT NULL CHECK (quota >= 0),
  issued INTEGER NOT NULL DEFAULT 0,
  verified INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  created_ms INTEGER NOT NULL,
  closed_ms INTEGER,
  CHECK (issued <= quota)
) WITHOUT ROWID;

CREATE TABLE order_stations (
  order_id TEXT NOT NULL REFERENCES orders(id),
  station TEXT NOT NULL REFERENCES stations(name),
  PRIMARY KEY (order_id, station)
) WITHOUT ROWID;

CREATE TABLE devices (
  device_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  station TEXT NOT NULL,
  profile TEXT NOT NULL,
  serial_hex TEXT NOT NULL UNIQUE,
  spki_sha256 BLOB NOT NULL UNIQUE,
  certificate_der BLOB NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('issued', 'verified', 'failed')),
  issued_ms INTEGER NOT NULL,
  issue_audit_seq INTEGER NOT NULL,
  reported_ms INTEGER,
  report_audit_seq INTEGER
);

CREATE TABLE secret_verifiers (
  device_id TEXT NOT NULL REFERENCES devices(device_id),
  name TEXT NOT NULL,
  verifier BLOB NOT NULL,
  generation INTEGER NOT NULL,
  issued_ms INTEGER NOT NULL,
  PRIMARY KEY (device_id, name)
) WITHOUT ROWID;

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  event TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);

CREATE TABLE audit_checkpoints (
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  hash BLOB NOT NULL,
  signature BLOB NOT NULL
);
)sql"},
    // Format v2 (docs/audit-format.md): each checkpoint names the one before it.
    {2, R"sql(
ALTER TABLE audit_checkpoints ADD COLUMN prev_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_checkpoints ADD COLUMN prev_hash BLOB NOT NULL DEFAULT x'';
)sql"},
    // The CA decides "verified": each device gets a challenge its proof must sign. Rows from
    // before get one from SQLite's generator (new ones come from the HSM). A device's station
    // ('' once an operator resets it) owns it until it is verified.
    {3, R"sql(
ALTER TABLE devices ADD COLUMN challenge BLOB;
UPDATE devices SET challenge = randomblob(32) WHERE challenge IS NULL;
)sql"},
};

// PostgreSQL starts at the schema SQLite reached with its migration 3: the same tables and
// columns, in PostgreSQL's types. Later changes get a migration on each list.
constexpr sql::Migration kPostgresMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE stations (
  name TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
  token_sha256 BYTEA,
  token_expires_ms BIGINT,
  cert_serial TEXT UNIQUE,
  cert_spki_sha256 BYTEA,
  created_ms BIGINT NOT NULL,
  enrolled_ms BIGINT,
  revoked_ms BIGINT
);

CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  product TEXT NOT NULL,
  quota BIGINT NOT NULL CHECK (quota >= 0),
  issued BIGINT NOT NULL DEFAULT 0,
  verified BIGINT NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  created_ms BIGINT NOT NULL,
  closed_ms BIGINT,
  CHECK (issued <= quota)
);

CREATE TABLE order_stations (
  order_id TEXT NOT NULL REFERENCES orders(id),
  station TEXT NOT NULL REFERENCES stations(name),
  PRIMARY KEY (order_id, station)
);

CREATE TABLE devices (
  device_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  station TEXT NOT NULL,
  profile TEXT NOT NULL,
  serial_hex TEXT NOT NULL UNIQUE,
  spki_sha256 BYTEA NOT NULL UNIQUE,
  certificate_der BYTEA NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('issued', 'verified', 'failed')),
  issued_ms BIGINT NOT NULL,
  issue_audit_seq BIGINT NOT NULL,
  reported_ms BIGINT,
  report_audit_seq BIGINT,
  challenge BYTEA
);
CREATE INDEX devices_order ON devices (order_id);

CREATE TABLE secret_verifiers (
  device_id TEXT NOT NULL REFERENCES devices(device_id),
  name TEXT NOT NULL,
  verifier BYTEA NOT NULL,
  generation BIGINT NOT NULL,
  issued_ms BIGINT NOT NULL,
  PRIMARY KEY (device_id, name)
);

CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  time_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  event TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BYTEA NOT NULL,
  hash BYTEA NOT NULL
);

CREATE TABLE audit_checkpoints (
  seq BIGINT PRIMARY KEY,
  time_ms BIGINT NOT NULL,
  hash BYTEA NOT NULL,
  signature BYTEA NOT NULL,
  prev_seq BIGINT NOT NULL DEFAULT 0,
  prev_hash BYTEA NOT NULL DEFAULT ''::bytea
);
)sql"},
};

// Revocation (docs/operations.md "Revocation"), written once for both dialects: {INT} and
// {BLOB} become each one's integer and byte-string types.
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

std::string Dialect(std::string_view text, std::string_view integer, std::string_view blob) {
  std::string out(text);
  for (auto [from, to] : {std::pair{std::string_view("{INT}"), integer},
                          std::pair{std::string_view("{BLOB}"), blob}}) {
    for (size_t at = out.find(from); at != std::string::npos; at = out.find(from, at)) {
      out.replace(at, from.size(), to);
      at += to.size();
    }
  }
  return out;
}

}  // namespace

std::span<const sql::Migration> CaMigrations(std::string_view backend) {
  // SQLite's migration 4 and PostgreSQL's 2 are the same tables.
  static const std::string sqlite_revocation = Dialect(kRevocationTables, "INTEGER", "BLOB");
  static const std::string postgres_revocation = Dialect(kRevocationTables, "BIGINT", "BYTEA");
  static const std::string sqlite_console = Dialect(kConsoleUsers, "INTEGER", "BLOB");
  static const std::string postgres_console = Dialect(kConsoleUsers, "BIGINT", "BYTEA");
  static const std::vector<sql::Migration> sqlite = [] {
    std::vector<sql::Migration> all(std::begin(kMigrations), std::end(kMigrations));
    all.push_back({4, sqlite_revocation});
    all.push_back({5, kExportIndex});
    all.push_back({6, sqlite_console});
    return all;
  }();
  static const std::vector<sql::Migration> postgres = [] {
    std::vector<sql::Migration> all(std::begin(kPostgresMigrations), std::end(kPostgresMigrations));
    all.push_back({2, postgres_revocation});
    all.push_back({3, kExportIndex});
    all.push_back({4, postgres_console});
    return all;
  }();
  return backend == "postgres" ? postgres : sqlite;
}

std::string_view CaTables() {
  return "console_users, crl_state, device_history, revocations, secret_verifiers, devices, order_stations, orders, stations, audit_checkpoints, "
         "audit_log, meta, imprint_schema";
}

}  // namespace imprint::ca
