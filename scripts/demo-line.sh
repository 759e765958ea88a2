#!/usr/bin/env bash
# The main job: a whole simulated production line on one machine.
# Installs what is missing, builds the programs it runs (showing the build's progress), makes a
# SoftHSM token under ./run/, initialises a CA, serves it, enrolls a station, creates an order,
# starts simulated devices, provisions them all in parallel, verifies the audit log and prints
# the summary. Everything it starts it stops (unless --keep). PINs live only in 0600 files; none
# is ever put on a command line.
#
# Usage: scripts/demo-line.sh [--devices N] [--parallel P] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."

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

# Only what the demo uses: the packages that build the programs and run the line (the tests'
# checkers, browser and other modules are scripts/test.sh's), and only the programs it runs.
echo "== Installing what is missing and building imprint-ca, imprint-station and imprint-agent"
scripts/install-deps.sh --demo
scripts/build.sh --target imprint-ca --target imprint-station --target imprint-agent \
  --target imprint-test-token | sed -u '$d'
bin=$PWD/build/bin
run=$PWD/run
source scripts/lib/line.sh

if [[ -f $run/pids ]]; then xargs -r kill < "$run/pids" 2>/dev/null || true; fi
rm -rf "$run"
mkdir -p "$run"
trap line_cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

step "SoftHSM token 'imprint-ca' in run/tokens (PINs in 0600 files)"
line_token
step "Key ceremony: root, issuing, audit, verifier and manifest keys generated inside the token"
line_ca_init
step "Starting the CA (mutual TLS) with its console"
printf '[console]\nlisten = "127.0.0.1:0"\n' >> "$run/ca.toml"
console_pw=$("$bin/imprint-ca" console user add --config "$run/ca.toml" supervisor --role operator)
line_ca_start
console_url="https://$(sed -n 's|^console on https://||p' "$run/ca.out")"
echo "CA listening on $ca_addr"
echo "console: $console_url (its certificate is from run/ca/root.pem; --keep leaves it running)"
echo "  log in as 'supervisor' with the one-time password $console_pw (you choose your own then)"
step "Enrolling station line-1 with a one-time token"
line_station line-1
step "Production order PO-1 for $devices devices, closing only once every label is bound"
"$bin/imprint-ca" order create --config "$run/ca.toml" --id PO-1 --product cam-v2 \
  --quota "$devices" --station line-1 --require-labels
step "Starting $devices simulated devices"
line_agents sim "$devices"
step "Provisioning $devices devices, $parallel at a time; each label printed (to run/labels/) once committed"
status=0
rm -rf "$run/labels"
mkdir -p "$run/labels"
"$bin/imprint-station" provision --state-dir "$run/station-line-1" --ca "$ca_addr" --order PO-1 \
  --devices-file "$run/sim.txt" --parallel "$parallel" --printer "file:$run/labels" \
  --label-template templates/labels/password.zpl || status=$?

step "Scan-back: each unit bound at the CA to the label stuck on it"
# A stand-in for the USB scanner: the unit's id and the label code read from its label file.
for label in "$run/labels"/PO-1.*.zpl; do
  unit=$(basename "$label" .zpl)
  echo "${unit#PO-1.} $(grep -o 'IMP1-[0-9A-F]\{16\}' "$label")"
done > "$run/scans.txt"
"$bin/imprint-station" label bind --state-dir "$run/station-line-1" --ca "$ca_addr" \
  --order PO-1 --pairs "$run/scans.txt" | tail -n 1 || status=$?

step "Revocation: sim-00001 withdrawn, a CRL signed in the HSM, judged by openssl"
first=$run/sim/sim-00001/certificate.pem
if [[ -f $first ]]; then
  "$bin/imprint-ca" revoke device --config "$run/ca.toml" --id sim-00001 --reason key-compromise
  "$bin/imprint-ca" crl issue --config "$run/ca.toml"
  openssl verify -crl_check -CAfile "$run/ca/chain.pem" -CRLfile "$run/ca/crl/issuing.crl.pem" \
    "$first" 2>&1 | grep -E "certificate revoked|: OK" || true
fi

step "Hand-over of PO-1: closed, a manifest signed in the HSM, AWS IoT files, EN 303 645 evidence"
rm -rf "$run/handover"
"$bin/imprint-ca" order close --config "$run/ca.toml" --id PO-1
"$bin/imprint-ca" export --config "$run/ca.toml" --order PO-1 --format manifest \
  --out "$run/handover/manifest" | grep -v '^wrote'
"$bin/imprint-ca" manifest verify --root "$run/ca/root.pem" "$run/handover/manifest/manifest.json"
"$bin/imprint-ca" export --config "$run/ca.toml" --order PO-1 --format aws-iot \
  --out "$run/handover/aws" | grep -v '^wrote'
"$bin/imprint-ca" evidence --config "$run/ca.toml" --order PO-1 --out "$run/handover/evidence" \
  | head -n 1
echo "hand-over files: $run/handover/ (open evidence/evidence.html in a browser)"

step "Order and audit log"
"$bin/imprint-ca" order show --config "$run/ca.toml" --id PO-1
# Stopping the CA seals the audit log with an HSM-signed checkpoint at its last record.
[[ $keep -eq 1 ]] || line_ca_stop
"$bin/imprint-ca" audit verify --config "$run/ca.toml"
echo "labels as sent to the printer (ZPL, mode 0600): $run/labels/; their records, passwords"
echo "  dropped once bound: $run/station-line-1/labels.jsonl"
echo "a device's store: $run/sim/sim-00001/"

if [[ $keep -eq 1 ]]; then
  trap - EXIT
  printf '%s\n' "${line_pids[@]}" > "$run/pids"
  step "Left running (--keep)"
  echo "CA: $ca_addr; devices: $run/sim.txt"
  echo "console: $console_url (user supervisor)"
  echo "  export SOFTHSM2_CONF=$SOFTHSM2_CONF"
  echo "  $bin/imprint-ca order show --config $run/ca.toml --id PO-1"
  echo "  stop everything: xargs kill < $run/pids"
fi
exit $status
