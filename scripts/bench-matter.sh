#!/usr/bin/env bash
# The Matter measurement (docs/performance.md, docs/matter.md): the P=16 line for a Matter order
# against the ordinary profile in alternating rounds on one CA, at 1,000 and at 100,000 PBKDF2
# iterations (the SPAKE2+ verifier is computed by the CA), with the CA's CPU per device.
# Prints each result, the ratios to the ordinary line and the CA CPU per device.
# Usage: scripts/bench-matter.sh [--runs 3] [--devices 200]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
devices=200
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="${2:?}"; shift 2 ;;
    --devices) devices="${2:?}"; shift 2 ;;
    *) echo "bench-matter.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
scripts/build.sh >/dev/null
bin=$PWD/build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/imprint-bench-matter-XXXXXX")
results=$work/results.jsonl
source scripts/lib/line.sh
source scripts/lib/bench_common.sh
source scripts/lib/console_node.sh
trap 'line_cleanup; rm -rf "$work"' EXIT

matter_node "$work/matter-node"
cp tests/matter/make_cd.mjs "$work/matter-node/"
run=$work/ca
bench_ca
ca() { "$bin/imprint-ca" "$@" --config "$run/ca.toml"; }
ca matter pai create --label bench --vid FFF1 --pid 8000 --out "$work/pai.csr" >/dev/null
ca matter paa create-test --vid FFF1 >/dev/null
node "$work/matter-node/make_cd.mjs" FFF1 8000 "$work/cd.der" "$work/cd-signer.pem"
for iterations in 1000 100000; do
  ca order create --id "PO-M$iterations" --product bulb --quota 100000000 --station line-1 \
    --matter --pai bench --pid 8000 --cd "$work/cd.der" --cd-signer "$work/cd-signer.pem" \
    --iterations "$iterations" >/dev/null
done
line() {  # line NAME ORDER
  record "$1" "$bin/imprint-bench" line --ca "$ca_addr" --station-dir "$run/station-line-1" \
    --order "$2" --devices "$devices" --parallel 16 --ca-pid "$ca_pid"
}
for _ in $(seq "$runs"); do
  line line_16_ordinary PO-BENCH
  line line_16_matter_1000 PO-M1000
  line line_16_matter_100000 PO-M100000
done
/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["name"], []).append(r["result"])
def med(name, field):
    return statistics.median(r[field] for r in rows[name])
base = med("line_16_ordinary", "devices_per_s")
base_cpu = med("line_16_ordinary", "ca_cpu_ms_per_device")
print(f"ordinary line P=16: {base:.0f} devices/s, CA CPU {base_cpu:.2f} ms/device")
for it in (1000, 100000):
    name = f"line_16_matter_{it}"
    rate, cpu = med(name, "devices_per_s"), med(name, "ca_cpu_ms_per_device")
    print(f"Matter line P=16, {it} iterations: {rate:.0f} devices/s = {rate / base:.2f} of the "
          f"ordinary line; CA CPU {cpu:.2f} ms/device ({cpu / base_cpu:.2f} x)")
PY
