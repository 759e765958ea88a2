#include "ca/schema.h"

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

}  // namespace

std::span<const sql::Migration> CaMigrations() { return kMigrations; }

}  // namespace imprint::ca
