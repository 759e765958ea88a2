#!/usr/bin/env bash
# A/B of two imprint-ca builds in one run: each serves its own fresh SoftHSM token and state,
# and the same imprint-bench client (this checkout's) drives `issue` against them in
# alternating rounds, so both see the same machine. Prints each round and the two medians.
# Usage: scripts/bench-ab.sh BASE_BIN_DIR NEW_BIN_DIR [--rounds 5] [--count 4000]
#        [--checkpoint-every 1000]
# Build the base in a worktree first, e.g.:
#   git worktree add /tmp/base REV && cmake -S /tmp/base -B /tmp/base/build &&
#   cmake --build /tmp/base/build -j2 --target imprint-ca imprint-station imprint-test-token
set -euo pipefail
cd "$(dirname "$0")/.."
base_bin=$(cd "${1:?BASE_BIN_DIR}" && pwd)
new_bin=$(cd "${2:?NEW_BIN_DIR}" && pwd)
shift 2
rounds=5
count=4000
every=1000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="${2:?}"; shift 2 ;;
    --count) count="${2:?}"; shift 2 ;;
    --checkpoint-every) every="${2:?}"; shift 2 ;;
    *) echo "bench-ab.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
scripts/build.sh >/dev/null
client=$PWD/build/bin/imprint-bench
work=$(mktemp -d "${TMPDIR:-/tmp}/imprint-ab-XXXXXX")
trap 'line_cleanup; rm -rf "$work"' EXIT
source scripts/lib/line.sh

declare -A address
for side in base new; do
  bin=${side}_bin; bin=${!bin}
  run=$work/$side
  mkdir -p "$run"
  line_token >/dev/null
  line_ca_init >/dev/null
  sed -i 's/^\[hsm\]/[hsm]\nsessions = 4/' "$run/ca.toml"
  printf '[audit]\ncheckpoint_every = %s\n' "$every" >> "$run/ca.toml"
  line_ca_start
  line_station line-1 >/dev/null
  line_order PO-BENCH 100000000 line-1 >/dev/null
  address[$side]=$ca_addr
done

declare -A rates
for round in $(seq "$rounds"); do
  for side in base new; do
    rate=$("$client" issue --ca "${address[$side]}" --station-dir "$work/$side/station-line-1" \
      --order PO-BENCH --clients 16 --count "$count" | tail -n 1 |
      /usr/bin/python3 -c 'import json, sys; print(round(json.load(sys.stdin)["certs_per_s"]))')
    rates[$side]+="$rate "
    echo "round $round: $side $rate certs/s"
  done
done
/usr/bin/python3 - "${rates[base]}" "${rates[new]}" <<'PY'
import statistics, sys
base, new = (statistics.median(map(int, s.split())) for s in sys.argv[1:3])
print(f"medians: base {base:.0f}, new {new:.0f} certs/s; new / base = {new / base:.2f}")
PY
