#!/usr/bin/env bash
# Several imprint-ca nodes on one PostgreSQL, with real processes on loopback and a private
# PostgreSQL server (started here as an unprivileged user, Unix socket only).
# Usage: nodes_test.sh BIN_DIR CASE
#   quota       3 stations on 2 nodes ask for more than the quota: exactly the quota is issued
#   duplicates  2 stations on 2 nodes provision the same devices at once: one certificate each
#   chaos       8 stations on 2 nodes; one node SIGKILLed and restarted 3 times, PostgreSQL
#               restarted once; then quota, registry, devices and the audit log agree
#   failover    a station given both nodes keeps going when the one it uses is SIGKILLed
#   db-down     PostgreSQL stopped under a serving node: UNAVAILABLE, then the same node recovers;
#               a node started without a database says so in one line and exits non-zero
#   pg-failover a synchronous standby streams from the primary; two stations issue through two
#               nodes (multi-host conninfo, target_session_attrs=read-write); the primary is
#               SIGKILLed and the standby promoted: nothing a station received is missing, the
#               quota holds, and the audit log (with the HSM anchor) verifies
set -euo pipefail
bin=$1
case_name=$2
here=$(cd "$(dirname "$0")" && pwd)
run=$(mktemp -d "${TMPDIR:-/tmp}/imprint-nodes-XXXXXX")
pg=$(mktemp -d "${TMPDIR:-/tmp}/imprint-nodes-pg-XXXXXX")
source "$here/../../scripts/lib/line.sh"
source "$here/../../scripts/lib/postgres.sh"
source "$here/e2e_lib.sh"
trap 'line_show_logs $?; line_cleanup; pg_stop "$pg"; rm -rf "$run" "$pg"' EXIT

sql() { "$pg_bin/psql" -h "${sql_host:-$pg}" -U imprint -d imprint -Atc "$1"; }

# provision STATION ORDER DEVICES NODE PARALLEL: the station's exit code is not judged here.
# provision_bg: the same in the background; provision_wait waits for all of those.
station_pids=()
provision_bg() {
  provision "$@" &
  station_pids+=("$!")
}
provision_wait() {
  for pid in "${station_pids[@]}"; do wait "$pid" || true; done
  station_pids=()
}
provision() {
  "$bin/imprint-station" provision --state-dir "$run/station-$1" --ca "${node_addr[$4]}" \
    --order "$2" --devices-file "$run/$3.txt" --parallel "$5" > "$run/prov-$1-$3.out" 2>&1 || true
}

# Every committed device's certificate verifies with openssl and is the one the CA recorded.
check_devices() {
  local devices=$1 count=0
  for store in "$run"/$devices/*/; do
    grep -q '"state":"COMMITTED"' "$store/state.json" 2>/dev/null || continue
    count=$((count + 1))
    openssl verify -x509_strict -CAfile "$run/ca/root.pem" -untrusted "$store/chain.pem" \
      "$store/certificate.pem" > /dev/null || fail "certificate in $store does not verify"
    local serial id
    serial=$(openssl x509 -in "$store/certificate.pem" -noout -serial | sed 's/serial=//' | tr 'A-F' 'a-f')
    id=$(basename "$store")
    expect_eq "$(sql "SELECT lower(serial_hex) FROM devices WHERE device_id = '$id'")" \
      "$serial" "CA record of $id"
  done
  echo "$count"
}

pg_start "$pg" >/dev/null
pg_createdb imprint
line_token > /dev/null
ca_store=$(printf '[store]\nbackend = "postgres"\nconninfo = "host=%s user=imprint dbname=imprint"' "$pg")
line_ca_init > /dev/null
# init refuses a store that already holds a CA, before it touches the token.
if "$bin/imprint-ca" init --config "$run/ca.toml" > "$run/init2.out" 2>&1; then
  fail "a second init on the same PostgreSQL store succeeded"
fi
grep -q "holds a CA" "$run/init2.out" || fail "second init: $(cat "$run/init2.out")"

node_start 1
node_start 2
ca_addr=${node_addr[1]}

case "$case_name" in
quota)
  for s in a b c; do line_station "line-$s" > /dev/null; done
  line_order PO-1 40 line-a line-b line-c > /dev/null
  for s in a b c; do line_agents "dev$s" 20; done
  provision_bg line-a PO-1 deva 1 4
  provision_bg line-b PO-1 devb 2 4
  provision_bg line-c PO-1 devc 1 4
  provision_wait
  held=$(( $(committed deva) + $(committed devb) + $(committed devc) ))
  expect_eq "$(order_field PO-1 issued)" 40 "issued on the order"
  expect_eq "$(sql "SELECT count(*) FROM devices WHERE order_id = 'PO-1'")" 40 "certificates recorded"
  expect_eq "$held" 40 "devices holding a certificate"
  grep -q "quota" "$run"/prov-line-*-dev*.out || fail "no station was told the quota was used up"
  ;;
duplicates)
  line_station line-a > /dev/null
  line_station line-b > /dev/null
  line_order PO-1 100 line-a line-b > /dev/null
  line_agents dev 30
  provision_bg line-a PO-1 dev 1 4
  provision_bg line-b PO-1 dev 2 4
  provision_wait
  # Whatever each station saw, a second pass finishes the rest; no device gets two certificates.
  provision line-a PO-1 dev 2 4
  expect_eq "$(committed dev)" 30 "devices committed"
  expect_eq "$(order_field PO-1 issued)" 30 "issued: one certificate per device"
  expect_eq "$(sql "SELECT count(DISTINCT device_id) FROM devices")" 30 "devices recorded"
  expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE event = 'certificate.issued'")" 30 \
    "certificate.issued records"
  expect_eq "$(check_devices dev)" 30 "verified device certificates"
  ;;
chaos)
  stations=(a b c d e f g h)
  for s in "${stations[@]}"; do line_station "line-$s" > /dev/null; done
  line_order PO-1 1000 "${stations[@]/#/line-}" > /dev/null
  for s in "${stations[@]}"; do line_agents "dev$s" 12; done
  round() {
    local i=0
    for s in "${stations[@]}"; do
      provision_bg "line-$s" PO-1 "dev$s" $(( i % 2 + 1 )) 2
      i=$((i + 1))
    done
  }
  round
  busy=0
  for k in 1 2 3; do
    sleep 0.7
    for pid in "${station_pids[@]}"; do kill -0 "$pid" 2>/dev/null && busy=$((busy + 1)); done
    node_kill 1
    sleep 0.3
    if (( k == 2 )); then pg_restart "$pg"; fi
    node_start 1
  done
  (( busy > 0 )) || fail "the stations had finished before the first kill: nothing was under load"
  provision_wait
  # Stations whose node died mid-batch resume on the other node (or the restarted one).
  for s in "${stations[@]}"; do provision "line-$s" PO-1 "dev$s" 2 2; done
  total=0
  for s in "${stations[@]}"; do total=$(( total + $(check_devices "dev$s") )); done
  expect_eq "$total" 96 "devices committed with a verifying certificate"
  expect_eq "$(order_field PO-1 issued)" 96 "quota spent once per device"
  expect_eq "$(sql "SELECT count(*) FROM devices")" 96 "devices recorded"
  expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE event = 'certificate.issued'")" 96 \
    "certificate.issued records"
  ;;
failover)
  line_station line-a > /dev/null
  line_order PO-1 100 line-a > /dev/null
  line_agents dev 40
  rc=0
  "$bin/imprint-station" provision --state-dir "$run/station-line-a" --ca "${node_addr[1]}" \
    --ca "${node_addr[2]}" --order PO-1 --devices-file "$run/dev.txt" --parallel 2 \
    > "$run/failover.out" 2>&1 &
  station=$!
  for _ in $(seq 500); do (( $(committed dev) >= 5 )) && break; sleep 0.01; done
  before=$(committed dev)
  node_kill 1
  wait "$station" || rc=$?
  (( before < 40 )) || fail "the station finished before node 1 was killed"
  expect_eq "$rc" 0 "station exit after its node was killed"
  grep -q "summary: 40 provisioned, 0 already provisioned, 0 failed" "$run/failover.out" ||
    fail "failover: $(cat "$run/failover.out")"
  expect_eq "$(order_field PO-1 issued)" 40 "issued"
  expect_eq "$(check_devices dev)" 40 "verified device certificates"
  ;;
db-down)
  line_station line-a > /dev/null
  line_order PO-1 100 line-a > /dev/null
  line_agents dev 6
  pg_stop "$pg"
  provision line-a PO-1 dev 1 2
  grep -qi "unavailable" "$run/prov-line-a-dev.out" || fail "no UNAVAILABLE while the database is down: $(cat "$run/prov-line-a-dev.out")"
  expect_eq "$(committed dev)" 0 "devices committed while the database is down"
  # A node cannot start without its database: one clear line, non-zero exit.
  rc=0
  "$bin/imprint-ca" serve --config "$run/ca.toml" --listen 127.0.0.1:0 > "$run/nodb.out" 2> "$run/nodb.err" || rc=$?
  (( rc != 0 )) || fail "a node started without its database"
  grep -q "^imprint-ca: UNAVAILABLE: cannot reach the store PostgreSQL" "$run/nodb.err" &&
    [[ $(wc -l < "$run/nodb.err") == 1 ]] || fail "start without database said: $(cat "$run/nodb.err")"
  pg_start "$pg" > /dev/null
  # The same node, never restarted, serves again.
  provision line-a PO-1 dev 1 2
  expect_eq "$(committed dev)" 6 "devices committed after the database came back"
  expect_eq "$(order_field PO-1 issued)" 6 "issued after the database came back"
  ;;
pg-failover)
  # The standby: a base backup of the primary that streams from it (-R writes
  # primary_conninfo), on its own socket directory; every commit waits for it.
  standby=$(mktemp -d "${TMPDIR:-/tmp}/imprint-nodes-standby-XXXXXX")
  trap 'line_show_logs $?; line_cleanup; pg_stop "$pg"; pg_stop "$standby"; rm -rf "$run" "$pg" "$standby"' EXIT
  chown postgres: "$standby" 2>/dev/null || true
  pg_as_owner "$pg_bin/pg_basebackup" -h "$pg" -U imprint -D "$standby/data" -R -X stream --checkpoint=fast \
    > "$run/basebackup.log" 2>&1 || fail "pg_basebackup: $(cat "$run/basebackup.log")"
  pg_start "$standby" > /dev/null
  sql "ALTER SYSTEM SET synchronous_standby_names = '*'" > /dev/null
  sql "SELECT pg_reload_conf()" > /dev/null
  for _ in $(seq 100); do
    [[ $(sql "SELECT sync_state FROM pg_stat_replication") == sync ]] && break
    sleep 0.1
  done
  expect_eq "$(sql "SELECT sync_state FROM pg_stat_replication")" sync "the standby's state"
  # Both nodes again, on a conninfo naming both servers: libpq takes the one that accepts writes.
  sed -i "s|^conninfo = .*|conninfo = \"host=$pg,$standby user=imprint dbname=imprint target_session_attrs=read-write connect_timeout=3\"|" "$run/ca.toml"
  node_kill 1
  node_kill 2
  node_start 1
  node_start 2
  ca_addr=${node_addr[1]}
  line_station line-a > /dev/null
  line_station line-b > /dev/null
  line_order PO-1 100 line-a line-b > /dev/null
  line_agents deva 40
  line_agents devb 40
  provision_bg line-a PO-1 deva 1 4
  provision_bg line-b PO-1 devb 2 4
  for _ in $(seq 1000); do (( $(committed deva) + $(committed devb) >= 10 )) && break; sleep 0.01; done
  before=$(( $(committed deva) + $(committed devb) ))
  # SIGKILL the primary (postmaster and every backend), then promote the standby.
  primary=$(head -n 1 "$pg/data/postmaster.pid")
  pkill -9 -P "$primary" || true
  kill -9 "$primary"
  pg_as_owner "$pg_bin/pg_ctl" -D "$standby/data" -w -t 60 promote > /dev/null ||
    fail "the standby could not be promoted"
  provision_wait
  (( before < 80 )) || fail "the stations had finished before the primary was killed"
  # Devices whose call was cut by the switch are provisioned by another pass (same node, which
  # reconnects to the promoted server on its own; a call that meets the node's first write after
  # the switch is answered UNAVAILABLE and needs one more pass). At most three.
  passes=0
  while (( $(committed deva) + $(committed devb) < 80 && passes < 3 )); do
    provision line-a PO-1 deva 1 4
    provision line-b PO-1 devb 2 4
    passes=$((passes + 1))
  done
  echo "measure: station passes after the switch: $passes"
  sql_host=$standby
  expect_eq "$(committed deva)" 40 "devices of station a committed"
  expect_eq "$(committed devb)" 40 "devices of station b committed"
  # Every certificate a device holds is in the promoted store (check_devices compares serials).
  total=$(( $(check_devices deva) + $(check_devices devb) ))
  expect_eq "$total" 80 "device certificates recorded by the promoted store"
  expect_eq "$(order_field PO-1 issued)" 80 "quota spent once per device"
  expect_eq "$(sql "SELECT count(*) FROM devices")" 80 "devices recorded"
  expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE event = 'certificate.issued'")" 80 \
    "certificate.issued records"
  echo "measure: primary killed with $before of 80 devices committed"
  ;;
*) fail "unknown case $case_name" ;;
esac

# One audit chain for every node: it verifies, checkpoints and anchor included.
line_cleanup
"$bin/imprint-ca" audit verify --config "$run/ca.toml" > "$run/verify.out" 2>&1 ||
  fail "audit verify: $(cat "$run/verify.out")"
echo "PASS $case_name"
