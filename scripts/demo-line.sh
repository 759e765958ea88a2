#!/usr/bin/env bash
# The main job: a whole simulated production line on one machine.
# Installs what is missing, builds, makes a SoftHSM token under ./run/, initialises a CA,
# serves it, enrolls a station, creates an order, starts simulated devices, provisions them
# all in parallel, verifies the audit log and prints the summary. Everything it starts it stops
# (unless --keep). PINs live only in 0600 files; none is ever put on a command line.
#
# Usage: scripts/demo-line.sh [--devices N] [--parallel P] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

devices=200
parallel=16
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --devices) devices="${2:?}"; shift 2 ;;
    --parallel) parallel="${2:?}"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "demo-line.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
scripts/build.sh >/dev/null
bin=$root/build/bin

run=$root/run
if [[ -f $run/ca.pid ]]; then kill "$(cat "$run/ca.pid")" 2>/dev/null || true; fi
rm -rf "$run"
mkdir -p "$run/tokens"
chmod 700 "$run"
export SOFTHSM2_CONF=$run/softhsm2.conf
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$run/tokens" > "$SOFTHSM2_CONF"

( umask 077
  head -c 18 /dev/urandom | base64 > "$run/so.pin"
  head -c 18 /dev/urandom | base64 > "$run/ca.pin" )

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

step "SoftHSM token 'imprint-ca' in run/tokens (PINs in 0600 files)"
"$bin/imprint-test-token" --label imprint-ca --so-pin-file "$run/so.pin" --pin-file "$run/ca.pin"

cat > "$run/ca.toml" <<TOML
[hsm]
module = "/usr/lib/softhsm/libsofthsm2.so"
token_uri = "pkcs11:token=imprint-ca"
pin_file = "$run/ca.pin"
[ca]
state_dir = "$run/ca"
organization = "Acme Devices"
[server]
listen = "127.0.0.1:0"
TOML

step "Key ceremony: root, issuing, audit and verifier keys generated inside the token"
"$bin/imprint-ca" init --config "$run/ca.toml"

step "Starting the CA (mutual TLS)"
"$bin/imprint-ca" serve --config "$run/ca.toml" > "$run/ca.out" 2> "$run/ca.log" &
ca_pid=$!
pids+=("$ca_pid")
echo "$ca_pid" > "$run/ca.pid"
for _ in $(seq 100); do
  if grep -q '^listening on ' "$run/ca.out" 2>/dev/null; then break; fi
  sleep 0.1
done
ca_addr=$(sed -n 's/^listening on //p' "$run/ca.out" | head -n 1)
[[ -n $ca_addr ]] || { echo "CA did not start:"; cat "$run/ca.log"; exit 1; }
echo "CA listening on $ca_addr"

step "Enrolling station line-1 with a one-time token"
( umask 077; "$bin/imprint-ca" station add --config "$run/ca.toml" line-1 > "$run/line-1.token" )
"$bin/imprint-station" enroll --ca "$ca_addr" --ca-root "$run/ca/root.pem" --name line-1 \
  --token-file "$run/line-1.token" --state-dir "$run/station"
rm -f "$run/line-1.token"

step "Production order PO-1 for $devices devices"
"$bin/imprint-ca" order create --config "$run/ca.toml" --id PO-1 --product cam-v2 \
  --quota "$devices" --station line-1

step "Starting $devices simulated devices"
"$bin/imprint-agent" --simulate "$devices" --store-root "$run/devices" --listen 127.0.0.1:0 \
  --devices-file "$run/devices.txt" > "$run/agents.out" 2> "$run/agents.log" &
pids+=("$!")
for _ in $(seq 300); do [[ -s $run/devices.txt ]] && break; sleep 0.1; done
[[ -s $run/devices.txt ]] || { echo "agents did not start:"; cat "$run/agents.log"; exit 1; }

step "Provisioning $devices devices, $parallel at a time"
status=0
"$bin/imprint-station" provision --state-dir "$run/station" --ca "$ca_addr" --order PO-1 \
  --devices-file "$run/devices.txt" --parallel "$parallel" || status=$?

step "Order and audit log"
"$bin/imprint-ca" order show --config "$run/ca.toml" --id PO-1
if [[ $keep -eq 0 ]]; then
  # Stopping the CA seals the audit log with an HSM-signed checkpoint at its last record.
  kill "$ca_pid"
  wait "$ca_pid" || true
fi
"$bin/imprint-ca" audit verify --config "$run/ca.toml"
echo "label records (one per device, mode 0600): $run/station/labels.jsonl"
echo "a device's store: $run/devices/SIM-00001/"

if [[ $keep -eq 1 ]]; then
  trap - EXIT
  step "Left running (--keep)"
  echo "CA: $ca_addr (pid $ca_pid), agents: $run/devices.txt"
  echo "  export SOFTHSM2_CONF=$SOFTHSM2_CONF"
  echo "  $bin/imprint-ca order show --config $run/ca.toml --id PO-1"
  echo "  stop: kill ${pids[*]}"
fi
exit $status
