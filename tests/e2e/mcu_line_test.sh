#!/usr/bin/env bash
# Microcontroller devices over serial links, end to end through the real binaries
# (docs/agent-protocol.md "The serial link", docs/porting.md): imprint-agent-mcu (the C agent)
# on pseudo-terminals, imprint-station driving them, a real imprint-ca on SoftHSM.
# Usage: mcu_line_test.sh BIN_DIR CASE, CASE one of
#   line     50 devices at P=16; every certificate by `openssl verify -x509_strict`, for the key
#            the device holds; the order counts 50 verified; a second run finds them all
#            provisioned; 4 more through a capturing relay, their frames decoded by a decoder
#            written from the document (Python) and each transaction checked from its bytes
#   noise    20 devices behind a relay that drops, flips and repeats bytes, the agents resetting
#            at random steps instead of answering: each provisioned exactly once, quota exact
#   crash    the agent killed at every durable step (before, during and after each of its
#            three saves) and restarted: every device provisioned once, none lost
#   hostile  garbage, oversize frames, a byte-a-second drip and a bad CRC every time beside 4
#            good devices: each hostile one fails alone with its reason, the others finish
set -euo pipefail
bin=$1
case=$2
here=$(cd "$(dirname "$0")" && pwd)
run=$(mktemp -d "${TMPDIR:-/tmp}/imprint-mcu-XXXXXX")
source "$here/../../scripts/lib/line.sh"
source "$here/e2e_lib.sh"
trap 'line_show_logs $?; line_cleanup; rm -rf "$run"' EXIT
py=/usr/bin/python3
ca() { "$bin/imprint-ca" "$@" --config "$run/ca.toml"; }

line_token >/dev/null
line_ca_config
"$bin/imprint-ca" init --config "$run/ca.toml" >/dev/null 2>&1
line_ca_start
line_station line-1 >/dev/null
root_sha=$(openssl x509 -in "$run/ca/root.pem" -outform DER | sha256sum | cut -c1-64)

# mcu NAME COUNT [ARGS...]: COUNT C agents on new pseudo-terminals, stores in $run/NAME, their
# links in $run/NAME.txt.
mcu() {
  local name=$1 count=$2
  shift 2
  rm -f "$run/$name.txt"
  "$bin/imprint-agent-mcu" --simulate "$count" --store "$run/$name" --id-prefix "$name" \
    --ca-root-sha256 "$root_sha" --devices-file "$run/$name.txt" "$@" \
    > "$run/$name.out" 2>> "$run/$name.log" &
  mcu_pid=$!
  line_pids+=("$mcu_pid")
  wait_for "$run/$name.txt" "$run/$name.log"
}
wait_for() {
  for _ in $(seq 200); do [[ -s $1 ]] && return 0; sleep 0.05; done
  cat "$2" >&2
  fail "$1 was not written"
}
# relay IN OUT [ARGS...]: serial_relay.py between the station and the devices of IN.
relay() {
  local in=$1 out=$2
  shift 2
  $py "$here/serial_relay.py" "$in" "$out" "$@" 2>> "$run/relay.log" &
  line_pids+=("$!")
  wait_for "$out" "$run/relay.log"
}
provision() {  # provision ORDER DEVICES_FILE PARALLEL OUT [ARGS...]: the station's exit code
  local order=$1 devices=$2 parallel=$3 out=$4
  shift 4
  "$bin/imprint-station" provision --state-dir "$run/station-line-1" --ca "$ca_addr" \
    --order "$order" --devices-file "$devices" --parallel "$parallel" "$@" > "$out" 2>&1
}
summary() { grep '^summary:' "$1"; }

case $case in
line)
  ca order create --id PO-MCU --product sensor --quota 60 --station line-1 >/dev/null
  mcu mcu 50
  provision PO-MCU "$run/mcu.txt" 16 "$run/p1.out" || { cat "$run/p1.out" >&2; fail "first run"; }
  summary "$run/p1.out" | grep -q '^summary: 50 provisioned, 0 already provisioned, 0 failed' ||
    fail "first run: $(summary "$run/p1.out")"
  $py "$here/check_mcu_records.py" "$run/mcu" "$run/ca/root.pem" 50 ||
    fail "the devices' certificates and keys"
  expect_eq "$(order_field PO-MCU verified)" 50 "verified at the CA"
  expect_eq "$(order_field PO-MCU issued)" 50 "issued"
  provision PO-MCU "$run/mcu.txt" 16 "$run/p2.out" || { cat "$run/p2.out" >&2; fail "second run"; }
  summary "$run/p2.out" | grep -q '^summary: 0 provisioned, 50 already provisioned, 0 failed' ||
    fail "second run: $(summary "$run/p2.out")"
  expect_eq "$(order_field PO-MCU issued)" 50 "issued after the second run"

  # Four more through a relay that only captures; the frames decoded from the document.
  mkdir -p "$run/capture"
  mcu cap 4
  relay "$run/cap.txt" "$run/cap-relayed.txt" --capture "$run/capture"
  provision PO-MCU "$run/cap-relayed.txt" 4 "$run/p3.out" || { cat "$run/p3.out" >&2; fail "captured run"; }
  $py "$here/check_serial_capture.py" "$run/capture" 4 || fail "the captured frames"
  ;;
noise)
  ca order create --id PO-NOISE --product sensor --quota 20 --station line-1 >/dev/null
  mcu noisy 20 --reset-permille 40 --seed 11
  relay "$run/noisy.txt" "$run/noisy-relayed.txt" --drop 0.0002 --flip 0.0002 --repeat 0.0002 --seed 5
  provisioned=0
  for attempt in 1 2 3; do
    provision PO-NOISE "$run/noisy-relayed.txt" 8 "$run/n$attempt.out" --serial-timeout-ms 400 || true
    n=$(summary "$run/n$attempt.out" | sed -n 's/^summary: \([0-9]*\) provisioned.*/\1/p')
    provisioned=$((provisioned + n))
    summary "$run/n$attempt.out" | grep -q ' 0 failed' && break
  done
  summary "$run/n$attempt.out" | grep -q ' 0 failed' || { cat "$run/n$attempt.out" >&2; fail "noise: devices left"; }
  expect_eq "$provisioned" 20 "devices counted provisioned over the runs"
  expect_eq "$(order_field PO-NOISE issued)" 20 "issued (each device once)"
  expect_eq "$(order_field PO-NOISE verified)" 20 "verified"
  $py "$here/check_mcu_records.py" "$run/noisy" "$run/ca/root.pem" 20 || fail "the noisy devices"
  # The noise was there: the agents, stopped, count what reached them damaged and their resets.
  kill "$mcu_pid"
  wait "$mcu_pid" || true
  read -r damaged resets < <(awk -F'[:,] *' '/ frames, /{d += $3 + $4 + $5; r += $7}
    END {print d + 0, r + 0}' "$run/noisy.log" | sed 's/[^0-9 ]//g')
  echo "noise: $damaged damaged frames reached the devices, $resets resets"
  (( damaged > 0 && resets > 0 )) || fail "the relay and the resets did nothing"
  ;;
crash)
  points=()
  for save in 1 2 3; do for at in before written renamed; do points+=("save:$save:$at"); done; done
  ca order create --id PO-CRASH --product sensor --quota ${#points[@]} --station line-1 >/dev/null
  : > "$run/crash.txt"
  i=0
  for point in "${points[@]}"; do
    i=$((i + 1))
    IMPRINT_MCU_CRASH_AT=$point mcu "k$i" 1
    cat "$run/k$i.txt" >> "$run/crash.txt"
  done
  provision PO-CRASH "$run/crash.txt" 9 "$run/c1.out" && fail "no agent crashed"
  expect_eq "$(summary "$run/c1.out" | sed -n 's/.* \([0-9]*\) failed in.*/\1/p')" 9 "devices whose agent died"
  : > "$run/crash.txt"
  for i in $(seq 1 ${#points[@]}); do
    mcu "k$i" 1  # restarted on the same store (a new pseudo-terminal)
    cat "$run/k$i.txt" >> "$run/crash.txt"
  done
  provision PO-CRASH "$run/crash.txt" 9 "$run/c2.out" || { cat "$run/c2.out" >&2; fail "after the restarts"; }
  summary "$run/c2.out" | grep -q '^summary: 9 provisioned, 0 already provisioned, 0 failed' ||
    fail "after the restarts: $(summary "$run/c2.out")"
  expect_eq "$(order_field PO-CRASH issued)" 9 "issued (quota exact: no device needed two)"
  expect_eq "$(order_field PO-CRASH verified)" 9 "verified"
  mkdir -p "$run/all"
  for i in $(seq 1 ${#points[@]}); do mv "$run/k$i"/* "$run/all/"; done
  $py "$here/check_mcu_records.py" "$run/all" "$run/ca/root.pem" 9 || fail "the restarted devices"
  ;;
hostile)
  ca order create --id PO-HOSTILE --product sensor --quota 10 --station line-1 >/dev/null
  mcu good 4
  $py "$here/hostile_serial.py" "$run/hostile.txt" garbage oversize drip bad-crc 2>> "$run/hostile.log" &
  line_pids+=("$!")
  wait_for "$run/hostile.txt" "$run/hostile.log"
  cat "$run/hostile.txt" "$run/good.txt" > "$run/all.txt"
  start=$SECONDS
  provision PO-HOSTILE "$run/all.txt" 8 "$run/h.out" --serial-timeout-ms 300 && fail "hostile devices passed"
  summary "$run/h.out" | grep -q '^summary: 4 provisioned, 0 already provisioned, 4 failed' ||
    { cat "$run/h.out" >&2; fail "hostile: $(summary "$run/h.out")"; }
  mapfile -t hostile < "$run/hostile.txt"
  expect_reason() {  # expect_reason LINK TEXT
    grep -F "failed: $1: " "$run/h.out" | grep -q "$2" ||
      { cat "$run/h.out" >&2; fail "no reason '$2' for $1"; }
  }
  expect_reason "${hostile[0]}" "no answer over serial"
  expect_reason "${hostile[1]}" "[1-9][0-9]* over the size limit"
  expect_reason "${hostile[2]}" "no answer over serial"
  expect_reason "${hostile[3]}" "[1-9][0-9]* with a bad CRC"
  expect_eq "$(order_field PO-HOSTILE issued)" 4 "issued (hostile devices got nothing)"
  # Each hostile device is held within its attempts (8 x (0.3 s + wire time)), not longer.
  (( SECONDS - start < 30 )) || fail "the run took $((SECONDS - start)) s"
  grep "^failed:" "$run/h.out"
  ;;
*) fail "unknown case $case" ;;
esac
echo "mcu $case: ok"
