#!/usr/bin/env bash
# A contract manufacturer's line offline (docs/offline.md), with real processes on loopback: the
# brand owner grants an allowance, the station fetches it, the CA goes away, the line runs on
# within the count, and reconcile brings every device into the registry.
# Usage: offline_test.sh BIN_DIR CASE
#   line   SQLite: grant 200, fetch, the CA process stopped, 201 devices at P=16: 200 provisioned,
#          each verified by openssl against the root and its chain, the 201st refused (exit 3);
#          the CA restarted, reconcile: order show counts 200 once, audit verify passes, the
#          manifest lists 200 and verifies, OCSP says good and, after revoke device, revoked
#   mid-order  SQLite: 150 devices online at P=16, the CA killed (SIGKILL) once 30 have
#          committed: the run finishes every device offline, none failed; the CA restarted,
#          reconcile: order show counts 150 once, audit verify passes, the manifest verifies
#   nodes  PostgreSQL with two CA nodes: fetch at node 1, both stopped, 40 devices offline,
#          reconcile at node 2, again at node 1 (nothing twice), OCSP from either node
set -euo pipefail
bin=$1
case_name=$2
here=$(cd "$(dirname "$0")" && pwd)
run=$(mktemp -d "${TMPDIR:-/tmp}/imprint-offline-XXXXXX")
pg=$(mktemp -d "${TMPDIR:-/tmp}/imprint-offline-pg-XXXXXX")
source "$here/../../scripts/lib/line.sh"
source "$here/../../scripts/lib/postgres.sh"
source "$here/e2e_lib.sh"
trap 'line_show_logs $?; line_cleanup; [[ $case_name != nodes ]] || pg_stop "$pg"; rm -rf "$run" "$pg"' EXIT

station=$run/station-cm-line-3

# The station enrolled with a token of its own (a second SoftHSM token beside the CA's).
enroll_with_token() {
  ( umask 077; head -c 18 /dev/urandom | base64 > "$run/station.pin"
    "$bin/imprint-ca" station add --config "$run/ca.toml" cm-line-3 > "$run/cm.token" )
  "$bin/imprint-test-token" --label imprint-station --so-pin-file "$run/so.pin" \
    --pin-file "$run/station.pin"
  "$bin/imprint-station" enroll --ca "$ca_addr" --ca-root "$run/ca/root.pem" --name cm-line-3 \
    --token-file "$run/cm.token" --state-dir "$station" \
    --token-module /usr/lib/softhsm/libsofthsm2.so --token-uri pkcs11:token=imprint-station \
    --token-pin-file "$run/station.pin"
}

# Each committed device of DEVICES chains root -> subordinate -> device (openssl, x509_strict).
check_chains() {
  local count=0
  for store in "$run"/$1/*/; do
    grep -q '"state":"COMMITTED"' "$store/state.json" 2>/dev/null || continue
    count=$((count + 1))
    openssl verify -x509_strict -purpose sslclient -CAfile "$run/ca/root.pem" \
      -untrusted "$store/chain.pem" "$store/certificate.pem" > /dev/null ||
      fail "certificate in $store does not verify"
  done
  echo "$count"
}

# ocsp STORE STATUS_ADDR: openssl ocsp about the device in STORE, its issuer the first
# certificate of its chain, the answer verified against the root alone; prints the status word.
ocsp() {
  openssl x509 -in "$1/chain.pem" > "$run/issuer.pem"
  local out
  out=$(openssl ocsp -issuer "$run/issuer.pem" -cert "$1/certificate.pem" -url "http://$2/ocsp" \
    -CAfile "$run/ca/root.pem" 2>&1) || fail "openssl ocsp: $out"
  grep -q "Response verify OK" <<< "$out" || fail "OCSP response not verified: $out"
  sed -n "s|^$1/certificate.pem: ||p" <<< "$out"
}

# first_device: sets device to one device store (a glob, not `ls | head`: under pipefail, ls
# killed by SIGPIPE when head has left would end the script without a word).
first_device() {
  local stores=("$run"/dev/*/)
  device=${stores[0]%/}
}

# sqlite_line_with_allowance QUOTA COUNT: a SQLite CA serving, the station enrolled with its
# token, order PO-1 of QUOTA, an allowance of COUNT for 72 h fetched; sets allowance.
sqlite_line_with_allowance() {
  ca_store=$status
  line_ca_init > /dev/null
  line_ca_start
  enroll_with_token > /dev/null
  line_order PO-1 "$1" cm-line-3 > /dev/null
  "$bin/imprint-ca" allowance grant --config "$run/ca.toml" --order PO-1 --station cm-line-3 \
    --count "$2" --valid-for 72h > /dev/null
  "$bin/imprint-station" allowance fetch --state-dir "$station" --ca "$ca_addr" --order PO-1 \
    > "$run/fetch.out"
  allowance=$(sed -n 's/^allowance \([0-9a-f]\{32\}\).*/\1/p' "$run/fetch.out")
  [[ -n $allowance ]] || fail "fetch: $(cat "$run/fetch.out")"
}

line_token > /dev/null
status='[status]
http_listen = "127.0.0.1:0"'

case "$case_name" in
line)
  sqlite_line_with_allowance 300 200
  expect_eq "$(order_field PO-1 reserved)" 200 "reserved for the allowance"
  line_ca_stop

  # The CA process is gone: 201 devices at P=16, the line stops at the count with exit code 3.
  line_agents dev 201
  code=0
  "$bin/imprint-station" provision --state-dir "$station" --ca "$ca_addr" --order PO-1 \
    --devices-file "$run/dev.txt" --parallel 16 --offline > "$run/offline.out" 2>&1 || code=$?
  expect_eq "$code" 3 "exit code past the count ($(tail -n 3 "$run/offline.out"))"
  grep -q "summary: 200 provisioned" "$run/offline.out" || fail "$(tail -n 5 "$run/offline.out")"
  grep -q "stopped: the allowance is used up: 200 of 200 certificates issued" "$run/offline.out" ||
    fail "no stop message: $(tail -n 5 "$run/offline.out")"
  expect_eq "$(committed dev)" 200 "devices holding a certificate"
  expect_eq "$(check_chains dev)" 200 "offline certificates verified by openssl"

  # The CA back: reconcile records each device once.
  line_ca_start
  "$bin/imprint-station" reconcile --state-dir "$station" --ca "$ca_addr" > "$run/reconcile.out" ||
    fail "reconcile: $(cat "$run/reconcile.out")"
  grep -q "allowance $allowance: 200 logged, 200 recorded now, 200 reconciled, OCSP delegated to the CA (all)" \
    "$run/reconcile.out" || fail "reconcile: $(cat "$run/reconcile.out")"
  "$bin/imprint-station" reconcile --state-dir "$station" --ca "$ca_addr" > "$run/again.out"
  grep -q "0 recorded now, 200 reconciled (all)" "$run/again.out" || fail "again: $(cat "$run/again.out")"
  expect_eq "$(order_field PO-1 issued)" 200 "issued"
  expect_eq "$(order_field PO-1 verified)" 200 "verified"
  expect_eq "$(order_field PO-1 reserved)" 0 "reserved after reconcile"
  "$bin/imprint-ca" allowance show --config "$run/ca.toml" --order PO-1 > "$run/show.out"
  grep -q "granted 200 used 200 outstanding 0" "$run/show.out" || fail "show: $(cat "$run/show.out")"
  "$bin/imprint-ca" audit verify --config "$run/ca.toml" > /dev/null || fail "audit verify"
  "$bin/imprint-ca" export --config "$run/ca.toml" --order PO-1 --format manifest \
    --out "$run/manifest" > /dev/null
  "$bin/imprint-ca" manifest verify --root "$run/ca/root.pem" "$run/manifest/manifest.json" \
    > "$run/manifest.out" || fail "manifest verify: $(cat "$run/manifest.out")"
  grep -q " 200 entries verify " "$run/manifest.out" || fail "manifest: $(cat "$run/manifest.out")"

  # OCSP through the station's delegate: good, then revoked at once.
  first_device
  expect_eq "$(ocsp "$device" "$ca_status_addr")" good "OCSP before revoke"
  "$bin/imprint-ca" revoke device --config "$run/ca.toml" --id "$(basename "$device")" \
    --reason key-compromise > /dev/null
  expect_eq "$(ocsp "$device" "$ca_status_addr")" revoked "OCSP after revoke"
  ;;
mid-order)
  sqlite_line_with_allowance 400 200
  line_agents dev 150
  "$bin/imprint-station" provision --state-dir "$station" --ca "$ca_addr" --order PO-1 \
    --devices-file "$run/dev.txt" --parallel 16 > "$run/mid.out" 2>&1 &
  station_pid=$!
  for _ in $(seq 1200); do (( $(committed dev) >= 30 )) && break; sleep 0.01; done
  # Killed, not stopped: the answers of the calls in flight are lost with it.
  kill -9 "$ca_pid"
  wait "$ca_pid" 2>/dev/null || true
  at_kill=$(committed dev)
  code=0
  wait "$station_pid" || code=$?
  expect_eq "$code" 0 "station exit code ($(tail -n 5 "$run/mid.out"))"
  (( at_kill < 150 )) || fail "the CA was killed after the run ended ($at_kill committed)"
  grep -q "summary: 150 provisioned, 0 already provisioned, 0 failed" "$run/mid.out" ||
    fail "run: $(tail -n 5 "$run/mid.out")"
  grep -q "offline: the CA was lost mid-run" "$run/mid.out" || fail "run: $(tail -n 5 "$run/mid.out")"
  expect_eq "$(check_chains dev)" 150 "certificates verified by openssl"

  line_ca_start
  "$bin/imprint-station" reconcile --state-dir "$station" --ca "$ca_addr" > "$run/reconcile.out" ||
    fail "reconcile: $(cat "$run/reconcile.out")"
  offline=$(sed -n 's/^allowance [0-9a-f]*: \([0-9]*\) logged.*/\1/p' "$run/reconcile.out")
  [[ -n $offline ]] || fail "reconcile: $(cat "$run/reconcile.out")"
  superseded=$("$bin/imprint-ca" audit export --config "$run/ca.toml" | grep -c '"event":"device.superseded"' || true)
  echo "killed at $at_kill committed; $offline finished offline, $superseded of them superseding" \
    "a certificate whose answer was lost; reconcile: $(tr '\n' ' ' < "$run/reconcile.out")"
  expect_eq "$(order_field PO-1 issued)" 150 "issued"
  expect_eq "$(order_field PO-1 verified)" 150 "verified"
  expect_eq "$(order_field PO-1 reserved)" $((200 - offline)) "reserved after reconcile"
  "$bin/imprint-ca" audit verify --config "$run/ca.toml" > /dev/null || fail "audit verify"
  "$bin/imprint-ca" export --config "$run/ca.toml" --order PO-1 --format manifest \
    --out "$run/manifest" > /dev/null
  "$bin/imprint-ca" manifest verify --root "$run/ca/root.pem" "$run/manifest/manifest.json" \
    > "$run/manifest.out" || fail "manifest verify: $(cat "$run/manifest.out")"
  grep -q " 150 entries verify " "$run/manifest.out" || fail "manifest: $(cat "$run/manifest.out")"
  ;;
nodes)
  pg_start "$pg" > /dev/null
  pg_createdb imprint
  ca_store=$(printf '%s\n[store]\nbackend = "postgres"\nconninfo = "host=%s user=imprint dbname=imprint"' \
    "$status" "$pg")
  line_ca_init > /dev/null
  node_stop() {
    ca_pid=${node_pid[$1]}
    line_ca_stop
  }
  node_start 1
  node_start 2
  ca_addr=${node_addr[1]}
  enroll_with_token > /dev/null
  line_order PO-1 100 cm-line-3 > /dev/null
  "$bin/imprint-ca" allowance grant --config "$run/ca.toml" --order PO-1 --station cm-line-3 \
    --count 50 --valid-for 24h > /dev/null
  "$bin/imprint-station" allowance fetch --state-dir "$station" --ca "${node_addr[1]}" \
    --order PO-1 > /dev/null
  node_stop 1
  node_stop 2
  line_agents dev 40
  "$bin/imprint-station" provision --state-dir "$station" --ca "${node_addr[1]}" --order PO-1 \
    --devices-file "$run/dev.txt" --parallel 8 --offline > "$run/offline.out" 2>&1 ||
    fail "offline: $(tail -n 5 "$run/offline.out")"
  expect_eq "$(check_chains dev)" 40 "offline certificates verified by openssl"
  node_start 1
  node_start 2
  "$bin/imprint-station" reconcile --state-dir "$station" --ca "${node_addr[2]}" \
    > "$run/reconcile.out" || fail "reconcile at node 2: $(cat "$run/reconcile.out")"
  grep -q "40 logged, 40 recorded now, 40 reconciled, OCSP delegated to the CA (all)" \
    "$run/reconcile.out" || fail "reconcile at node 2: $(cat "$run/reconcile.out")"
  "$bin/imprint-station" reconcile --state-dir "$station" --ca "${node_addr[1]}" > "$run/again.out"
  grep -q "0 recorded now, 40 reconciled (all)" "$run/again.out" ||
    fail "again at node 1: $(cat "$run/again.out")"
  expect_eq "$(order_field PO-1 issued)" 40 "issued"
  expect_eq "$(order_field PO-1 reserved)" 10 "still reserved"
  "$bin/imprint-ca" audit verify --config "$run/ca.toml" > /dev/null || fail "audit verify"
  first_device
  # Node 1 never saw the delegate arrive: it reads it from the store.
  expect_eq "$(ocsp "$device" "${node_status[1]}")" good "OCSP at node 1"
  expect_eq "$(ocsp "$device" "${node_status[2]}")" good "OCSP at node 2"
  "$bin/imprint-ca" revoke device --config "$run/ca.toml" --id "$(basename "$device")" \
    --reason superseded > /dev/null
  expect_eq "$(ocsp "$device" "${node_status[1]}")" revoked "OCSP at node 1 after revoke"
  ;;
*)
  fail "unknown case $case_name"
  ;;
esac
echo "ok: $case_name"
