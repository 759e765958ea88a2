#!/usr/bin/env bash
# The key attestation measurement (docs/performance.md, docs/attestation.md): devices whose keys
# live in software TPMs (swtpm), provisioned one at a time (P=1) with key attestation and
# without it (the same TPMs, the devices not offering it), and devices with file keys, in
# alternating rounds on one CA; with the CA's CPU per device. Prints each result and the ratios.
# Usage: scripts/bench-attestation.sh [--runs 3] [--devices 12]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
devices=12
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="${2:?}"; shift 2 ;;
    --devices) devices="${2:?}"; shift 2 ;;
    *) echo "bench-attestation.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
scripts/build.sh >/dev/null
bin=$PWD/build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/imprint-bench-attestation-XXXXXX")
results=$work/results.jsonl
run=$work/ca
mkdir -p "$run"
source scripts/lib/line.sh
source scripts/lib/modules.sh
source scripts/lib/tpm_makers.sh
source scripts/lib/bench_common.sh
trap 'line_cleanup; rm -rf "$work"' EXIT

tpm_maker bench-tpm
for i in $(seq 1 "$devices"); do tpm_make "tpm-$i" bench-tpm; done
tpm_maker_roots bench-tpm "$run/tpm-roots"
bench_ca_extra=$(printf '[attestation]\ntpm_roots = "%s"' "$run/tpm-roots") bench_ca
"$bin/imprint-ca" order create --config "$run/ca.toml" --id PO-ATTESTED --product gw \
  --quota 100000000 --station line-1 --attestation tpm >/dev/null
mapfile -t tctis < <(tpm_tcti_args 1 "$devices")
line() {  # line NAME ORDER [imprint-bench line options]
  local name=$1 order=$2
  shift 2
  record "$name" "$bin/imprint-bench" line --ca "$ca_addr" --station-dir "$run/station-line-1" \
    --order "$order" --devices "$devices" --parallel 1 --ca-pid "$ca_pid" "$@"
}
for _ in $(seq "$runs"); do
  line line_1_tpm_attested PO-ATTESTED --key-backend tpm "${tctis[@]}"
  line line_1_tpm PO-BENCH --key-backend tpm "${tctis[@]}" --tpm-no-attestation
  line line_1_file PO-BENCH
done
/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["name"], []).append(r["result"])
def med(name, field):
    return statistics.median(r[field] for r in rows[name])
att, tpm, file = (med(n, "p50_ms") for n in ("line_1_tpm_attested", "line_1_tpm", "line_1_file"))
att_cpu, tpm_cpu, file_cpu = (med(n, "ca_cpu_ms_per_device")
                              for n in ("line_1_tpm_attested", "line_1_tpm", "line_1_file"))
print(f"P=1, p50 per device: TPM key attested {att:.1f} ms, TPM key {tpm:.1f} ms, "
      f"file key {file:.1f} ms")
print(f"attested / not attested (TPM keys): {att / tpm:.2f}x; attested / file keys: "
      f"{att / file:.2f}x")
print(f"CA CPU per device: attested {att_cpu:.2f} ms, TPM key {tpm_cpu:.2f} ms, "
      f"file key {file_cpu:.2f} ms (attestation adds {att_cpu - tpm_cpu:.2f} ms)")
PY
