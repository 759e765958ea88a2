#!/usr/bin/env bash
# The serial-device measurement (docs/performance.md "Serial devices", docs/porting.md): per
# device time of the C agent over a link throttled to 115,200 baud (tests/e2e/serial_relay.py,
# 10 bits a byte each way), the same agent on an unthrottled pseudo-terminal, and the C++ agent
# over TCP (gRPC), in alternating rounds on one CA; P=1, so a device's time is its own. Also the
# bytes one transaction puts on the wire, from the relay's capture decoded by the test decoder.
# Usage: scripts/bench-serial.sh [--runs 3] [--devices 8]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
devices=8
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="${2:?}"; shift 2 ;;
    --devices) devices="${2:?}"; shift 2 ;;
    *) echo "bench-serial.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

source scripts/lib/line.sh
source scripts/lib/bench_common.sh
bench_prepare serial
here=$PWD/tests/e2e
bench_ca
root_sha=$(openssl x509 -in "$run/ca/root.pem" -outform DER | sha256sum | cut -c1-64)

# p50 NAME DEVICES_FILE: provisions the devices one at a time; prints the station's p50 (ms).
p50() {
  local out=$run/$1.out
  "$bin/imprint-station" provision --state-dir "$run/station-line-1" --ca "$ca_addr" \
    --order PO-BENCH --devices-file "$2" --parallel 1 > "$out" 2>&1 ||
    { cat "$out" >&2; return 1; }
  grep -q "^summary: $devices provisioned" "$out" || { cat "$out" >&2; return 1; }
  sed -n 's/.*per device p50 \([0-9.]*\) ms.*/\1/p' "$out"
}
declare -A times
for round in $(seq "$runs"); do
  "$bin/imprint-agent-mcu" --simulate "$devices" --store "$run/slow-$round" --id-prefix "slow$round" \
    --ca-root-sha256 "$root_sha" --devices-file "$run/slow-$round.txt" >/dev/null 2>&1 &
  line_pids+=("$!")
  "$bin/imprint-agent-mcu" --simulate "$devices" --store "$run/fast-$round" --id-prefix "fast$round" \
    --ca-root-sha256 "$root_sha" --devices-file "$run/fast-$round.txt" >/dev/null 2>&1 &
  line_pids+=("$!")
  line_agents "tcp$round" "$devices" >/dev/null
  for _ in $(seq 100); do [[ -s $run/slow-$round.txt && -s $run/fast-$round.txt ]] && break; sleep 0.05; done
  mkdir -p "$run/capture-$round"
  /usr/bin/python3 "$here/serial_relay.py" "$run/slow-$round.txt" "$run/relayed-$round.txt" \
    --baud 115200 --capture "$run/capture-$round" &
  line_pids+=("$!")
  for _ in $(seq 100); do [[ -s $run/relayed-$round.txt ]] && break; sleep 0.05; done
  times[serial_115200]+="$(p50 "s$round" "$run/relayed-$round.txt") "
  times[serial_pty]+="$(p50 "f$round" "$run/fast-$round.txt") "
  times[tcp_grpc]+="$(p50 "t$round" "$run/tcp$round.txt") "
done
s=$(median "${times[serial_115200]}")
f=$(median "${times[serial_pty]}")
t=$(median "${times[tcp_grpc]}")
echo "per device p50 at P=1, median of $runs rounds of $devices devices:"
echo "  C agent, serial at 115200 baud: $s ms (rounds: ${times[serial_115200]})"
echo "  C agent, serial unthrottled:    $f ms (rounds: ${times[serial_pty]})"
echo "  C++ agent, gRPC over TCP:        $t ms (rounds: ${times[tcp_grpc]})"
awk -v s="$s" -v t="$t" -v f="$f" 'BEGIN {printf "  ratios: serial 115200 / TCP %.2f, serial unthrottled / TCP %.2f\n", s / t, f / t}'
/usr/bin/python3 "$here/check_serial_capture.py" "$run/capture-1" "$devices"
