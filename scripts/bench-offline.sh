#!/usr/bin/env bash
# The offline measurement of scripts/bench.sh alone (docs/performance.md, docs/offline.md): the
# P=16 line offline against online in alternating rounds, and reconcile of what the offline
# rounds issued. Prints each result and the two ratios.
# Usage: scripts/bench-offline.sh [--runs 3] [--devices 200]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
devices=200
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="${2:?}"; shift 2 ;;
    --devices) devices="${2:?}"; shift 2 ;;
    *) echo "bench-offline.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
scripts/build.sh >/dev/null
bin=$PWD/build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/imprint-bench-offline-XXXXXX")
results=$work/results.jsonl
source scripts/lib/line.sh
source scripts/lib/bench_common.sh
source scripts/lib/offline_bench.sh
trap 'line_cleanup; rm -rf "$work"' EXIT

run=$work/p256
bench_ca
offline_bench "$runs" "$devices"
/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["name"], []).append(r["result"])
on = statistics.median(r["devices_per_s"] for r in rows["line_16_ab"])
off = statistics.median(r["devices_per_s"] for r in rows["line_16_offline"])
rec, noop = rows["reconcile"][0], rows["reconcile_noop"][0]
print(f"line P=16 offline / online (medians of alternating rounds): {off:.0f} / {on:.0f} = {off / on:.2f} (goal >= 0.9)")
print(f"reconcile: {rec['devices'] / rec['seconds']:.0f} devices/s ({rec['devices']} devices in {rec['seconds']:.2f} s, "
      f"{noop['seconds']:.2f} s of it start-up) (goal >= 2000)")
PY
