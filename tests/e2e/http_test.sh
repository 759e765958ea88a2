#!/usr/bin/env bash
# The CA's HTTP listeners under attack, through the real imprint-ca (issue 26 findings 3, 4, 6):
# header floods, slow and idle clients while metrics, OCSP and the CRL must answer within 1 s
# (tests/e2e/http_attack.py), then SIGTERM with slow clients on both listeners: the CA must
# exit, cleanly, within 5 s. Usage: http_test.sh BIN_DIR
set -euo pipefail
bin=$1
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
line_ca_start
console_addr=$(sed -n 's|^console on https://||p' "$run/ca.out")
[[ -n $console_addr && -n $ca_status_addr ]] || fail "no console or status address"

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
