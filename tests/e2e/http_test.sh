#!/usr/bin/env bash
# The CA's HTTP listeners under attack, through the real imprint-ca (issue 26 findings 3, 4, 6):
# header floods, slow and idle clients while metrics, OCSP and the CRL must answer within 1 s
# (tests/e2e/http_attack.py), then SIGTERM with slow clients on both listeners: the CA must
# exit, cleanly, within 5 s. "combined": everything at once under a descriptor limit of 1024
# (HTTP storms on both listeners, idle connections on both gRPC listeners) while a station
# provisions 200 devices and a probe scrapes metrics and asks OCSP every second.
# Usage: http_test.sh BIN_DIR listeners|combined
set -euo pipefail
bin=$1
case_name=${2:-listeners}
here=$(cd "$(dirname "$0")" && pwd)
run=$(mktemp -d "${TMPDIR:-/tmp}/imprint-http-XXXXXX")
source "$here/../../scripts/lib/line.sh"
trap 'rc=$?; line_show_logs $rc; line_cleanup; rm -rf "$run"' EXIT
fail() { echo "http_test: FAILED: $*" >&2; exit 1; }

line_token >/dev/null
line_ca_init >/dev/null 2>&1
( umask 077; openssl rand -hex 32 > "$run/metrics.token" )
cat >> "$run/ca.toml" <<TOML
[status]
http_listen = "127.0.0.1:0"
[console]
listen = "127.0.0.1:0"
metrics_token_file = "$run/metrics.token"
TOML
if [[ $case_name == combined ]]; then
  ( ulimit -n 1024; line_ca_start; echo "$ca_pid $ca_addr $ca_station_addr $ca_status_addr" > "$run/ca.started" )
  read -r ca_pid ca_addr ca_station_addr ca_status_addr < "$run/ca.started"
  line_pids+=("$ca_pid")
  grep -q "(open-file limit 1024)" "$run/ca.log" || fail "the CA does not run at 1024 descriptors"
else
  line_ca_start
fi
console_addr=$(sed -n 's|^console on https://||p' "$run/ca.out")
[[ -n $console_addr && -n $ca_status_addr ]] || fail "no console or status address"

if [[ $case_name == combined ]]; then
  line_station line-1 > /dev/null
  line_order PO-1 200 line-1 > /dev/null
  line_agents dev 200
  stop=$run/stop
  /usr/bin/python3 "$here/http_attack.py" storm "$console_addr" "$ca_status_addr" "$stop" \
    > "$run/storm.out" 2>&1 &
  line_pids+=($!)
  for listener in "$ca_addr" "$ca_station_addr"; do
    /usr/bin/python3 "$here/hostile_peer.py" idle "$listener" 300 127.0.0.60 > /dev/null &
    line_pids+=($!)
  done
  sleep 2
  grep -q storming "$run/storm.out" || fail "the storm did not start: $(cat "$run/storm.out")"
  /usr/bin/python3 "$here/http_attack.py" probe "$ca_pid" "$console_addr" "$ca_status_addr" \
    "$run/metrics.token" "$stop" > "$run/probe.out" 2>&1 &
  probe=$!
  line_pids+=("$probe")
  start=$(date +%s)
  line_provision line-1 PO-1 dev 8 > "$run/provision.out" ||
    fail "provisioning under the storm: $(tail -5 "$run/provision.out")"
  took=$(( $(date +%s) - start ))
  sleep 3  # a few more probes after the line is done
  touch "$stop"
  wait "$probe" || fail "the probe failed: $(cat "$run/probe.out")"
  cat "$run/probe.out"
  grep -q "summary: 200 provisioned" "$run/provision.out" ||
    fail "under the storm: $(grep summary "$run/provision.out")"
  echo "measure: 200 devices provisioned under the storm in $took s"
  kill -0 "$ca_pid" || fail "the CA exited under the storm"
  echo "measure: refusals logged: $(grep -c "refused" "$run/ca.log" || true)"
  line_ca_stop || fail "the CA did not stop cleanly after the storm"
  echo "http_test: passed"
  exit 0
fi

/usr/bin/python3 "$here/http_attack.py" attack "$ca_pid" "$console_addr" "$ca_status_addr" \
  "$run/metrics.token"
kill -0 "$ca_pid" || fail "the CA exited under the attack"

# SIGTERM with slow clients connected to both listeners.
/usr/bin/python3 "$here/http_attack.py" hold "$console_addr" tls 8 > "$run/hold-console.out" &
line_pids+=($!)
/usr/bin/python3 "$here/http_attack.py" hold "$ca_status_addr" plain 8 > "$run/hold-status.out" &
line_pids+=($!)
for _ in $(seq 100); do
  grep -q holding "$run/hold-console.out" && grep -q holding "$run/hold-status.out" && break
  sleep 0.1
done
sleep 1
start=$(date +%s%N)
kill -TERM "$ca_pid"
rc=0
for _ in $(seq 50); do
  state=$(awk '{print $3}' "/proc/$ca_pid/stat" 2>/dev/null || true)
  [[ -z $state || $state == Z ]] && break
  sleep 0.1
done
[[ -z $state || $state == Z ]] || fail "the CA had not stopped 5 s after SIGTERM with slow clients"
wait "$ca_pid" || rc=$?
echo "measure: SIGTERM to exit with 16 slow clients: $(( ($(date +%s%N) - start) / 1000000 )) ms"
[[ $rc -eq 0 ]] || fail "the CA exited with status $rc after SIGTERM"
grep -q "audit log sealed\|sealed" "$run/ca.log" || true
echo "http_test: passed"
