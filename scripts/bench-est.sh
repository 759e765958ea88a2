#!/usr/bin/env bash
# The EST measurement (docs/performance.md "EST", docs/est.md): certificates per second through
# the CA's EST listener (imprint-bench est: 16 kept-alive HTTPS clients with the station's
# certificate, simpleenroll) and through its gRPC station listener (imprint-bench issue, 16
# clients), in alternating rounds on one CA, with the CA's CPU per certificate. Prints each
# result, the medians and the ratio EST / gRPC (goal >= 0.5).
# Usage: scripts/bench-est.sh [--runs 3] [--count 2000]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
count=2000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="${2:?}"; shift 2 ;;
    --count) count="${2:?}"; shift 2 ;;
    *) echo "bench-est.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

source scripts/lib/line.sh
source scripts/lib/bench_common.sh
bench_prepare est
bench_ca_extra=$(printf '[est]\nlisten = "127.0.0.1:0"') bench_ca
est=$(sed -n 's|^est on https://||p' "$run/ca.out")
for _ in $(seq "$runs"); do
  record issue_16 "$bin/imprint-bench" issue --ca "$ca_addr" --station-dir "$run/station-line-1" \
    --order PO-BENCH --clients 16 --count "$count" --ca-pid "$ca_pid"
  record est_16 "$bin/imprint-bench" est --est "$est" --station-dir "$run/station-line-1" \
    --order PO-BENCH --clients 16 --count "$count" --ca-pid "$ca_pid"
done
/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(name, key):
    return statistics.median(r["result"][key] for r in rows if r["name"] == name)
g, e = med("issue_16", "certs_per_s"), med("est_16", "certs_per_s")
print("medians: gRPC issue %.0f certs/s (CA CPU %.0f us/cert), EST simpleenroll %.0f certs/s "
      "(CA CPU %.0f us/cert, client CPU %.0f us/cert)" % (
          g, med("issue_16", "ca_cpu_us_per_cert"), e, med("est_16", "ca_cpu_us_per_cert"),
          med("est_16", "client_cpu_us_per_cert")))
print("EST / gRPC = %.2f (goal >= 0.5): %s" % (e / g, "met" if e / g >= 0.5 else "not met"))
PY
