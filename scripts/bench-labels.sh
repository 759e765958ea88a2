#!/usr/bin/env bash
# What printing labels costs the line (docs/performance.md "Labels", docs/labels.md): the
# station's wall time for N devices at P=16 without a printer, with every label sent to a
# loopback raw-TCP printer (tests/e2e/fake_printer.py), and to a file sink, in alternating
# rounds on one CA. The wall time includes the end of the run waiting for the last labels.
# Usage: scripts/bench-labels.sh [--runs 3] [--devices 200]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
devices=200
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="${2:?}"; shift 2 ;;
    --devices) devices="${2:?}"; shift 2 ;;
    *) echo "bench-labels.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

source scripts/lib/line.sh
source scripts/lib/bench_common.sh
bench_prepare labels
bench_ca
template=$PWD/templates/labels/password.zpl
mkdir -p "$run/printed"
/usr/bin/python3 tests/e2e/fake_printer.py "$run/printer.port" "$run/printed" &
line_pids+=("$!")
for _ in $(seq 100); do [[ -s $run/printer.port ]] && break; sleep 0.05; done
port=$(cat "$run/printer.port")

# wall NAME [ARGS...]: provisions $devices new devices; prints the station's wall time (s).
wall() {
  local name=$1
  shift
  line_agents "$name" "$devices" >/dev/null
  local start end
  start=$(date +%s.%N)
  "$bin/imprint-station" provision --state-dir "$run/station-line-1" --ca "$ca_addr" \
    --order PO-BENCH --devices-file "$run/$name.txt" --parallel 16 "$@" > "$run/$name.out" 2>&1 ||
    { cat "$run/$name.out" >&2; return 1; }
  end=$(date +%s.%N)
  grep -q "^summary: $devices provisioned" "$run/$name.out" || { cat "$run/$name.out" >&2; return 1; }
  if [[ $# -gt 0 ]]; then
    grep -q "^labels: $devices printed, 0 waiting" "$run/$name.out" ||
      { cat "$run/$name.out" >&2; return 1; }
  fi
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}'
}
declare -A times
for round in $(seq "$runs"); do
  times[none]+="$(wall "n$round") "
  times[tcp]+="$(wall "t$round" --printer "tcp://127.0.0.1:$port" --label-template "$template") "
  mkdir -p "$run/files-$round"
  times[file]+="$(wall "f$round" --printer "file:$run/files-$round" --label-template "$template") "
done
n=$(median "${times[none]}")
t=$(median "${times[tcp]}")
f=$(median "${times[file]}")
echo "station wall time for $devices devices at P=16, median of $runs alternating rounds:"
echo "  no printer:          $n s (rounds: ${times[none]})"
echo "  raw TCP printer:     $t s (rounds: ${times[tcp]})"
echo "  file sink:           $f s (rounds: ${times[file]})"
awk -v n="$n" -v t="$t" -v f="$f" 'BEGIN {printf "  ratios: TCP / none %.2f, file / none %.2f\n", t / n, f / n}'
echo "  labels the printer received: $(ls "$run/printed" | grep -c '\.zpl$') (expected $((devices * runs)))"
