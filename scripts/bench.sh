#!/usr/bin/env bash
# Runs every imprint-bench measurement in one go on a fresh SoftHSM token and prints the ratios
# docs/performance.md reports. Each throughput figure is the median of --runs runs.
# Usage: scripts/bench.sh [--runs 3] [--count 4000] [--scale-devices 1000000]
#        [--export-devices 1000000] [--quick]
# --quick: tiny counts, one run: proves every subcommand works (CI smoke), measures nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
count=4000
scale_devices=1000000
export_devices=1000000
line_devices=200
stock_devices=200
seconds=3
tpm_devices=10  # one bench process, one tpm2-abrmd connection: 15 keys fit here, 16 do not
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="${2:?}"; shift 2 ;;
    --count) count="${2:?}"; shift 2 ;;
    --scale-devices) scale_devices="${2:?}"; shift 2 ;;
    --export-devices) export_devices="${2:?}"; shift 2 ;;
    --quick) runs=1; count=100; scale_devices=1000; export_devices=1000; line_devices=20; stock_devices=5; seconds=0.5; tpm_devices=4; shift ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
scripts/build.sh >/dev/null
bin=$PWD/build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/imprint-bench-XXXXXX")
results=$work/results.jsonl
source scripts/lib/line.sh
source scripts/lib/offline_bench.sh
source scripts/lib/bench_common.sh
source scripts/lib/modules.sh
source scripts/lib/postgres.sh
source scripts/lib/console_node.sh
source scripts/lib/ocsp_h2load.sh
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/imprint-bench-pg-XXXXXX")
trap 'line_cleanup; ock_cleanup; pg_stop "$pg_dir"; rm -rf "$work" "$pg_dir"' EXIT
py=/usr/bin/python3


repeat() {
  local name=$1
  shift
  for _ in $(seq "$runs"); do record "$name" "$@"; done
}

echo "== P-256 CA"
run=$work/p256
bench_ca
p256_run=$run
p256_addr=$ca_addr

repeat hsm_1 "$bin/imprint-bench" hsm --config "$run/ca.toml" --threads 1 --seconds "$seconds"
repeat hsm_2 "$bin/imprint-bench" hsm --config "$run/ca.toml" --threads 2 --seconds "$seconds"
repeat floor "$bin/imprint-bench" floor --config "$run/ca.toml" --threads 2 --seconds "$seconds"
# Issuance as a station asks since issue 32 (one stream, its 16 fixtures' requests in flight on
# it) and as before (16 unary callers), in alternating rounds against the same CA.
for _ in $(seq "$runs"); do
  record issue_stream "$bin/imprint-bench" issue --ca "$ca_addr" \
    --station-dir "$run/station-line-1" --order PO-BENCH --rpc stream --clients 1 --depth 16 \
    --count "$count" --ca-pid "$ca_pid"
  record issue "$bin/imprint-bench" issue --ca "$ca_addr" --station-dir "$run/station-line-1" \
    --order PO-BENCH --clients 16 --count "$count" --ca-pid "$ca_pid"
done
repeat ocsp "$bin/imprint-bench" ocsp --config "$run/ca.toml" --url "http://$ca_status_addr" \
  --clients 16 --seconds "$seconds" --ca-pid "$ca_pid"
repeat ocsp_nonce "$bin/imprint-bench" ocsp --config "$run/ca.toml" \
  --url "http://$ca_status_addr" --clients 16 --seconds "$seconds" --nonce --ca-pid "$ca_pid"
# The same responder under h2load, whose client costs little beside it (issue 32).
ocsp_serial=$(sqlite3 "$run/ca/imprint-ca.db" "SELECT serial_hex FROM devices LIMIT 1")
repeat ocsp_h2load ocsp_h2load "http://$ca_status_addr" "$run/ca/chain.pem" "$ocsp_serial" \
  "$ca_pid" "$((count * 5))" 16
repeat issue_1 "$bin/imprint-bench" issue --ca "$ca_addr" --station-dir "$run/station-line-1" \
  --order PO-BENCH --clients 1 --count "$((count / 4))"
repeat line_16 "$bin/imprint-bench" line --ca "$ca_addr" --station-dir "$run/station-line-1" \
  --order PO-BENCH --devices "$line_devices" --parallel 16 --ca-pid "$ca_pid"
repeat line_1 "$bin/imprint-bench" line --ca "$ca_addr" --station-dir "$run/station-line-1" \
  --order PO-BENCH --devices "$((line_devices / 4))" --parallel 1 --ca-pid "$ca_pid"

echo "== offline: the same line within an allowance, alternating with online; then reconcile"
offline_bench "$runs" "$line_devices"

echo "== console and metrics: issuance with them off, on and unwatched, and watched"
# A second CA like the first, with its console and metrics on. Rounds alternate: the first CA
# (no console), this one with nobody looking, this one with a browser on the live page and a
# Prometheus-like scrape of /metrics every second.
p256_pid=$ca_pid
run=$work/console
mkdir -p "$run"
( umask 077; openssl rand -hex 32 > "$run/metrics.token" )
bench_ca_extra=$(printf '[console]\nlisten = "127.0.0.1:0"\nmetrics_token_file = "%s"' "$run/metrics.token") \
  bench_ca
console_run=$run
console_pid=$ca_pid
console_addr=$ca_addr
console_url="https://$(sed -n 's|^console on https://||p' "$run/ca.out")"
console_node "$work/console-node"
cp bench/console_watch.mjs "$work/console-node/"
spki=$(openssl x509 -in "$run/ca/tls-cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)
for round in $(seq "$runs"); do
  record console_off "$bin/imprint-bench" issue --ca "$p256_addr" \
    --station-dir "$p256_run/station-line-1" --order PO-BENCH --clients 16 --count "$count" \
    --ca-pid "$p256_pid"
  record console_idle "$bin/imprint-bench" issue --ca "$console_addr" \
    --station-dir "$console_run/station-line-1" --order PO-BENCH --clients 16 --count "$count" \
    --ca-pid "$console_pid"
  # A browser per watched round (a user each: the one-time password works once), closed after.
  watch_pw=$("$bin/imprint-ca" console user add --config "$console_run/ca.toml" "watcher$round" 2>/dev/null)
  node "$work/console-node/console_watch.mjs" "$console_url" "watcher$round" "$watch_pw" "$spki" \
    > "$work/watch.out" 2>&1 &
  watch_pid=$!
  for _ in $(seq 600); do grep -q watching "$work/watch.out" && break; sleep 0.1; done
  grep -q watching "$work/watch.out" ||
    { echo "the console watcher did not start:" >&2; cat "$work/watch.out" >&2; exit 1; }
  ( while true; do
      curl -sf --cacert "$console_run/ca/root.pem" -H "Authorization: Bearer $(cat "$console_run/metrics.token")" \
        -o /dev/null "$console_url/metrics" || echo "scrape failed" >&2
      sleep 1
    done ) &
  scrape_pid=$!
  record console_watched "$bin/imprint-bench" issue --ca "$console_addr" \
    --station-dir "$console_run/station-line-1" --order PO-BENCH --clients 16 --count "$count" \
    --ca-pid "$console_pid"
  kill "$scrape_pid" 2>/dev/null; wait "$scrape_pid" 2>/dev/null || true
  kill -TERM "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null || true
done
line_ca_stop
run=$p256_run
ca_pid=$p256_pid
ca_addr=$p256_addr
export SOFTHSM2_CONF=$run/softhsm2.conf

echo "== device keys in a TPM (swtpm, tpm2-abrmd, tpm2-pkcs11) vs in files, $tpm_devices devices, one at a time"
tpm_start
tpm_token devices >/dev/null
repeat line_file "$bin/imprint-bench" line --ca "$ca_addr" --station-dir "$run/station-line-1" \
  --order PO-BENCH --devices "$tpm_devices" --parallel 1
repeat line_tpm "$bin/imprint-bench" line --ca "$ca_addr" --station-dir "$run/station-line-1" \
  --order PO-BENCH --devices "$tpm_devices" --parallel 1 --key-backend pkcs11 \
  --pkcs11-module "$tpm_module" --token-uri pkcs11:token=devices --pin-file "$run/tpm.pin"

echo "== stock line: openssl CLI with the pkcs11 engine and sqlite3, $stock_devices devices"
stock=$work/stock
mkdir -p "$stock"
( umask 077; tr -d '\n' < "$run/ca.pin" > "$stock/engine.pin" )
sqlite3 "$stock/registry.db" "CREATE TABLE certs (serial TEXT PRIMARY KEY, device TEXT, pem TEXT)"
uri="pkcs11:token=imprint-ca;object=imprint-issuing;type=private?pin-source=file:$stock/engine.pin"
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  for i in $(seq "$stock_devices"); do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$stock/dev.key" 2>/dev/null
    openssl req -new -key "$stock/dev.key" -subj "/CN=stock-$i" -out "$stock/dev.csr"
    serial=$(openssl rand -hex 16)
    openssl x509 -req -in "$stock/dev.csr" -engine pkcs11 -CAkeyform engine -CAkey "$uri" \
      -CA "$run/ca/chain.pem" -set_serial "0x$serial" -days 3650 -out "$stock/dev.pem" 2>/dev/null
    sqlite3 "$stock/registry.db" "INSERT INTO certs VALUES ('$serial', 'stock-$i', readfile('$stock/dev.pem'))"
  done
  end=$(date +%s.%N)
  openssl verify -CAfile "$run/ca/root.pem" -untrusted "$run/ca/chain.pem" "$stock/dev.pem" >/dev/null
  rate=$($py -c "print($stock_devices / ($end - $start))")
  echo "{\"name\": \"stock_line\", \"result\": {\"certs_per_s\": $rate}}" >> "$results"
  echo "  stock_line: $rate certs/s"
done
line_ca_stop

# rsa_ca_bench NAME: an RSA-3072 CA on the token line_ca_init is pointed at; records NAME_hsm_2
# (its C_Sign ceiling) and NAME_issue (issuance through the server) in the same run.
rsa_ca_bench() {
  ca_key_type=RSA-3072 line_ca_init >/dev/null
  sed -i 's/^\[hsm\]/[hsm]\nsessions = 4/' "$run/ca.toml"
  line_ca_start
  line_station line-1 >/dev/null
  line_order PO-BENCH 100000000 line-1 >/dev/null
  repeat "${1}_hsm_2" "$bin/imprint-bench" hsm --config "$run/ca.toml" --threads 2 --seconds "$seconds"
  repeat "${1}_issue" "$bin/imprint-bench" issue --ca "$ca_addr" --station-dir "$run/station-line-1" \
    --order PO-BENCH --clients 16 --count "$((count / 4))" --ca-pid "$ca_pid"
  line_ca_stop
}

echo "== RSA-3072 CA"
run=$work/rsa
mkdir -p "$run"
line_token >/dev/null
rsa_ca_bench rsa

echo "== RSA-3072 CA on opencryptoki's soft token"
run=$work/ock
mkdir -p "$run"
ock_status=0
ock_token >/dev/null || ock_status=$?
if (( ock_status == 0 )); then
  ca_module=$ock_module ca_token_uri="pkcs11:token=$ock_label" ca_pin_file=$run/ock.pin \
    rsa_ca_bench ock
  ock_cleanup
else
  echo "  skipped: opencryptoki's soft token is not ours to use (see above)"
fi

echo "== stores: 1 node on SQLite, 1 node on PostgreSQL, 2 nodes on PostgreSQL (fsync on)"
# Each CA has its own token; the three are measured in turn within each run.
run=$work/store-sqlite
bench_ca
sqlite_addr=$ca_addr sqlite_pid=$ca_pid sqlite_run=$run
pg_start "$pg_dir" on
pg_createdb imprint
# pg_commits: "COMMITS SYNCS": PostgreSQL's committed transactions in the CA's database so far
# (read-only ones included) and its WAL flushes (the durable commits; a batch shares one).
pg_commits() {
  "$pg_bin/psql" -h "$PG_HOST" -U imprint -d imprint -AtF ' ' -c \
    "SELECT xact_commit, (SELECT wal_sync FROM pg_stat_wal) FROM pg_stat_database WHERE datname = 'imprint'"
}
run=$work/store-pg
ca_store=$(printf '[store]\nbackend = "postgres"\nconninfo = "host=%s user=imprint dbname=imprint"' "$pg_dir") \
  bench_ca
pg_addr1=$ca_addr pg_pid1=$ca_pid
line_ca_start  # the second node, on the same store and token
pg_addr2=$ca_addr pg_pid2=$ca_pid
# PostgreSQL's postmaster and every backend (the nodes' connections are opened at start).
pg_pids=()
pm=$(head -n 1 "$pg_dir/data/postmaster.pid")
for pid in "$pm" $(pgrep -P "$pm"); do pg_pids+=(--store-pid "$pid"); done
for _ in $(seq "$runs"); do
  record store_sqlite_1 "$bin/imprint-bench" issue --ca "$sqlite_addr" \
    --station-dir "$sqlite_run/station-line-1" --order PO-BENCH --rpc stream --clients 1 \
    --depth 16 --count "$count" --ca-pid "$sqlite_pid"
  commits_before=$(pg_commits)
  record store_pg_1 "$bin/imprint-bench" issue --ca "$pg_addr1" --station-dir "$run/station-line-1" \
    --order PO-BENCH --rpc stream --clients 1 --depth 16 --count "$count" --ca-pid "$pg_pid1" \
    "${pg_pids[@]}"
  sleep 1.5  # backends publish their counts at most once a second
  awk -v a="$commits_before" -v b="$(pg_commits)" -v n="$count" 'BEGIN {
      split(a, x, " "); split(b, y, " ");
      printf "{\"name\": \"store_pg_1_commits\", \"result\": {\"commits_per_cert\": %.2f, \"wal_syncs_per_cert\": %.2f}}\n",
        (y[1] - x[1]) / n, (y[2] - x[2]) / n }' >> "$results"
  record store_pg_2 "$bin/imprint-bench" issue --ca "$pg_addr1" --ca "$pg_addr2" \
    --station-dir "$run/station-line-1" --order PO-BENCH --rpc stream --clients 2 --depth 8 \
    --count "$count" --ca-pid "$pg_pid1" --ca-pid "$pg_pid2" "${pg_pids[@]}"
done
line_cleanup
line_pids=()
pg_stop "$pg_dir"

echo "== scale: $scale_devices registered devices (P-256 CA, served CA stopped)"
run=$p256_run
export SOFTHSM2_CONF=$run/softhsm2.conf
record scale "$bin/imprint-bench" scale --config "$run/ca.toml" --devices "$scale_devices" \
  --count "$((count / 2))" --threads 2

echo "== hand-over exports: an order of $export_devices devices (same CA, served CA stopped)"
record export "$bin/imprint-bench" export --config "$run/ca.toml" --imprint-ca "$bin/imprint-ca" \
  --devices "$export_devices" --ceiling-seconds "$seconds"

$py - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    entry = json.loads(line)
    rows.setdefault(entry["name"], []).append(entry["result"])
def med(name, key):
    return statistics.median(r[key] for r in rows[name])
floor = med("floor", "certs_per_s")
unary = med("issue", "certs_per_s")
issue = med("issue_stream", "certs_per_s")  # the station's path since issue 32
stock = med("stock_line", "certs_per_s")
rsa_ceiling = med("rsa_hsm_2", "signs_per_s")
rsa_issue = med("rsa_issue", "certs_per_s")
line16 = med("line_16", "devices_per_s")
scale = rows["scale"][0]
tpm_p50, file_p50 = med("line_tpm", "p50_ms"), med("line_file", "p50_ms")
print()
print("| figure | value | target | met |")
print("|---|---|---|---|")
def row(label, value, target, ok):
    print(f"| {label} | {value} | {target} | {'yes' if ok else 'no'} |")
print(f"| HSM ceiling P-256, 1 / 2 sessions | {med('hsm_1','signs_per_s'):.0f} / {med('hsm_2','signs_per_s'):.0f} signs/s | | |")
print(f"| crypto floor (CSR verify + HSM sign, 2 threads) | {floor:.0f} certs/s | | |")
print(f"| issue, mTLS gRPC, one issuance stream with 16 requests in flight | {issue:.0f} certs/s (p50 {med('issue_stream','p50_ms'):.1f} ms, p99 {med('issue_stream','p99_ms'):.1f} ms) | | |")
print(f"| issue, 16 unary callers (before issue 32), alternating rounds | {unary:.0f} certs/s (p50 {med('issue','p50_ms'):.1f} ms, p99 {med('issue','p99_ms'):.1f} ms) | | |")
print(f"| issue: CPU per certificate, CA / bench client: stream / unary | {med('issue_stream','ca_cpu_us_per_cert'):.0f} / {med('issue_stream','client_cpu_us_per_cert'):.0f} us; {med('issue','ca_cpu_us_per_cert'):.0f} / {med('issue','client_cpu_us_per_cert'):.0f} us | | |")
cpu_ratio = med("issue_stream", "ca_cpu_us_per_cert") / med("issue", "ca_cpu_us_per_cert")
row("CA CPU per certificate, stream / unary (alternating rounds)", f"{cpu_ratio:.2f}", "<= 0.5", cpu_ratio <= 0.5)
row("issue / raw C_Sign (2 sessions)", f"{issue:.0f} / {med('hsm_2','signs_per_s'):.0f} = {issue/med('hsm_2','signs_per_s'):.2f}", ">= 0.2", issue / med("hsm_2", "signs_per_s") >= 0.2)
print(f"| issue, 1 client | {med('issue_1','certs_per_s'):.0f} certs/s (p50 {med('issue_1','p50_ms'):.2f} ms) | | |")
print(f"| stock openssl-CLI line | {stock:.1f} certs/s | | |")
row("issue / crypto floor", f"{issue/floor:.2f}", ">= 0.35", issue / floor >= 0.35)
row("issue / stock line", f"{issue/stock:.0f}", ">= 150", issue / stock >= 150)
row("RSA-3072 issue / RSA-3072 HSM ceiling", f"{rsa_issue:.0f} / {rsa_ceiling:.0f} = {rsa_issue/rsa_ceiling:.2f}", ">= 0.8", rsa_issue / rsa_ceiling >= 0.8)
# What the two shared cores allow at most, from the CPU each certificate or device costs.
rsa_cpu_ms = (med("rsa_issue", "ca_cpu_us_per_cert") + med("rsa_issue", "client_cpu_us_per_cert")) / 1000
print(f"| RSA-3072: most the two cores allow, 2 / (CA + client CPU per certificate) / ceiling | {2000 / rsa_cpu_ms / rsa_ceiling:.2f} | | |")
if "ock_issue" in rows:
    ock_ceiling, ock_issue = med("ock_hsm_2", "signs_per_s"), med("ock_issue", "certs_per_s")
    print(f"| RSA-3072 on opencryptoki: issue / its C_Sign ceiling | {ock_issue:.0f} / {ock_ceiling:.0f} = {ock_issue/ock_ceiling:.2f} (SoftHSM: {rsa_issue/rsa_ceiling:.2f}) | | |")
    ock_cpu_ms = (med("ock_issue", "ca_cpu_us_per_cert") + med("ock_issue", "client_cpu_us_per_cert")) / 1000
    print(f"| RSA-3072 on opencryptoki: most the two cores allow / its ceiling | {2000 / ock_cpu_ms / ock_ceiling:.2f} | | |")
print(f"| device provisioning P=1, p50 per device: TPM keys / file keys | {tpm_p50:.1f} / {file_p50:.1f} ms = {tpm_p50/file_p50:.1f}x | | |")
sq_rate, pg1_rate, pg2_rate = (med(n, "certs_per_s") for n in ("store_sqlite_1", "store_pg_1", "store_pg_2"))
sq_cpu, pg1_cpu, pg2_cpu = (med(n, "ca_cpu_us_per_cert") for n in ("store_sqlite_1", "store_pg_1", "store_pg_2"))
pg1_db, pg2_db = med("store_pg_1", "store_cpu_us_per_cert"), med("store_pg_2", "store_cpu_us_per_cert")
print(f"| stores (certs/s; CA CPU us/cert; PostgreSQL CPU us/cert) | SQLite 1 node {sq_rate:.0f}, {sq_cpu:.0f}; PostgreSQL 1 node {pg1_rate:.0f}, {pg1_cpu:.0f}, {pg1_db:.0f}; 2 nodes {pg2_rate:.0f}, {pg2_cpu:.0f}, {pg2_db:.0f} | | |")
print(f"| PostgreSQL per certificate, 1 node: transactions committed (read-only ones included) / WAL flushes | {med('store_pg_1_commits','commits_per_cert'):.2f} / {med('store_pg_1_commits','wal_syncs_per_cert'):.2f} | | |")
row("issue, 1 node on PostgreSQL / 1 node on SQLite", f"{pg1_rate:.0f} / {sq_rate:.0f} = {pg1_rate/sq_rate:.2f}", ">= 0.7", pg1_rate / sq_rate >= 0.7)
row("CA CPU per cert, 2 nodes / 1 node (PostgreSQL)", f"{pg2_cpu:.0f} / {pg1_cpu:.0f} = {pg2_cpu/pg1_cpu:.2f}", "<= 1.2", pg2_cpu / pg1_cpu <= 1.2)
row("line (P=16) / issue", f"{line16:.0f} / {issue:.0f} = {line16/issue:.2f}", ">= 0.3", line16 / issue >= 0.3)
line_on, line_off = med("line_16_ab", "devices_per_s"), med("line_16_offline", "devices_per_s")
row("line P=16 offline / online (alternating rounds)", f"{line_off:.0f} / {line_on:.0f} = {line_off/line_on:.2f}", ">= 0.9", line_off / line_on >= 0.9)
rec, noop = rows["reconcile"][0], rows["reconcile_noop"][0]
row("reconcile", f"{rec['devices'] / rec['seconds']:.0f} devices/s ({rec['devices']} devices; {noop['seconds']:.2f} s of it start-up)", ">= 2000", rec["devices"] / rec["seconds"] >= 2000)
line_ca_ms = med("line_16", "ca_cpu_ms_per_device")
line_own_ms = med("line_16", "station_and_devices_cpu_ms_per_device")
print(f"| line P=16: CPU per device, CA / station + simulated devices | {line_ca_ms:.1f} / {line_own_ms:.1f} ms | | |")
print(f"| line P=16: most the two cores allow, 2 / CPU per device | {2000 / (line_ca_ms + line_own_ms):.0f} devices/s | | |")
p99 = med("line_1", "p99_ms")
row("line P=1 per-device p99", f"{p99:.1f} ms (p50 {med('line_1', 'p50_ms'):.1f} ms)", "<= 10 ms", p99 <= 10)
row("issue at N registered / issue at 0", f"{scale['ratio_full_to_empty']:.2f} (N={scale['devices']})", ">= 0.9", scale["ratio_full_to_empty"] >= 0.9)
row("audit verify", f"{scale['audit_verify_records_per_s']:.0f} records/s", ">= 200000", scale["audit_verify_records_per_s"] >= 200000)
row("CA resident memory at N devices", f"{scale['ca_rss_mb']:.0f} MB", "< 200 MB", scale["ca_rss_mb"] < 200)
print(f"| registry bytes per device | {scale['registry_bytes_per_device']:.0f} | | |")
ocsp = med("ocsp", "responses_per_s")
row("OCSP over HTTP, 16 clients, no nonce (RFC 5019, cached) / HSM ceiling (2 sessions)", f"{ocsp:.0f} / {med('hsm_2','signs_per_s'):.0f} = {ocsp/med('hsm_2','signs_per_s'):.2f} (p50 {med('ocsp','p50_ms'):.1f} ms)", ">= 0.5", ocsp / med("hsm_2", "signs_per_s") >= 0.5)
h2 = med("ocsp_h2load", "responses_per_s")
row("OCSP under h2load (a lean generator), 16 connections, no nonce / HSM ceiling (2 sessions)", f"{h2:.0f} / {med('hsm_2','signs_per_s'):.0f} = {h2/med('hsm_2','signs_per_s'):.2f}; CPU per response CA {med('ocsp_h2load','ca_cpu_us_per_response'):.0f} us, h2load {med('ocsp_h2load','client_cpu_us_per_response'):.0f} us", ">= 0.5", h2 / med("hsm_2", "signs_per_s") >= 0.5)
ocsp_nonce = med("ocsp_nonce", "responses_per_s")
print(f"| OCSP CPU per response, CA / bench client: no nonce {med('ocsp','ca_cpu_us_per_response'):.0f} / {med('ocsp','client_cpu_us_per_response'):.0f} us; nonce {med('ocsp_nonce','ca_cpu_us_per_response'):.0f} / {med('ocsp_nonce','client_cpu_us_per_response'):.0f} us | | |")
print(f"| OCSP, a nonce in each request (every answer signed) / HSM ceiling | {ocsp_nonce:.0f} / {med('hsm_2','signs_per_s'):.0f} = {ocsp_nonce/med('hsm_2','signs_per_s'):.2f} (p50 {med('ocsp_nonce','p50_ms'):.1f} ms) | | |")
revoke_total = scale["revoke_order_s"] + scale["crl_publish_s"]
row(f"revoke an order of {scale['revoked']} and publish the CRL", f"{scale['revoke_order_s']:.1f} + {scale['crl_publish_s']:.1f} = {revoke_total:.1f} s", "< 60 s", revoke_total < 60)
print(f"| CRL bytes per entry | {scale['crl_bytes_per_entry']:.1f} ({scale['crl_entries']} entries) | | |")
off, idle, watched = (med(n, "certs_per_s") for n in ("console_off", "console_idle", "console_watched"))
row("issue with console + metrics on, nobody looking / off", f"{idle:.0f} / {off:.0f} = {idle/off:.2f}", "no measurable cost (>= 0.95)", idle / off >= 0.95)
row("issue with a browser on the live page + /metrics scraped every second / unwatched", f"{watched:.0f} / {idle:.0f} = {watched/idle:.2f}", ">= 0.95", watched / idle >= 0.95)
print(f"| CA CPU per certificate: off / unwatched / watched | {med('console_off','ca_cpu_us_per_cert'):.0f} / {med('console_idle','ca_cpu_us_per_cert'):.0f} / {med('console_watched','ca_cpu_us_per_cert'):.0f} us | | |")
ex = rows["export"][0]
row(f"export aws-iot, {ex['devices']} devices", f"{ex['aws_devices_per_s']:.0f} devices/s ({ex['aws_s']:.1f} s)", ">= 50000/s", ex["aws_devices_per_s"] >= 50000)
row("export peak resident memory, aws-iot / manifest", f"{ex['aws_rss_mb']:.0f} / {ex['manifest_rss_mb']:.0f} MB", "< 200 MB", max(ex["aws_rss_mb"], ex["manifest_rss_mb"]) < 200)
print(f"| export csv | {ex['csv_devices_per_s']:.0f} devices/s ({ex['csv_s']:.1f} s) | | |")
print(f"| export manifest / manifest key ceiling ({ex['sign_threads']} threads) | {ex['manifest_devices_per_s']:.0f} / {ex['manifest_key_signs_per_s']:.0f} = {ex['manifest_ratio_to_ceiling']:.2f} ({ex['manifest_s']:.0f} s) | | |")
PY
