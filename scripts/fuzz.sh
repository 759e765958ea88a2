#!/usr/bin/env bash
# Builds the libFuzzer targets (ASan+UBSan) into build-fuzz/ and runs each for a bounded time
# from the seed corpus in tests/fuzz/corpus/. Exits non-zero on any crash, leak or sanitizer
# report; prints executions and coverage features per target.
# Usage: scripts/fuzz.sh [--seconds S] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="${2:?}"; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=(csr_fuzz certificate_fuzz matter_tlv_fuzz uri_fuzz config_fuzz audit_fuzz install_fuzz ca_request_fuzz mcu_agent_fuzz)

scripts/install-deps.sh
source scripts/lib/ccache.sh
cmake -S . -B build-fuzz -DIMPRINT_SANITIZE=address -DIMPRINT_FUZZ=ON "${compiler_launcher[@]}" \
  >/dev/null
cmake --build build-fuzz -j"${IMPRINT_JOBS:-2}" --target "${targets[@]}" >/dev/null

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/support/lsan.supp:print_suppressions=0}"
work=$(mktemp -d "${TMPDIR:-/tmp}/imprint-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0
printf '%-16s %12s %10s %8s\n' target executions features result
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  log=$work/$t.log
  rc=0
  "build-fuzz/fuzz/$t" -max_total_time="$seconds" -use_value_profile=1 -print_final_stats=1 \
    -rss_limit_mb=4096 -artifact_prefix="$work/$t-" "$work/$t" "tests/fuzz/corpus/$t" \
    > "$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  features=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  result=ok
  if [[ $rc -ne 0 ]]; then
    result=FAILED
    status=1
    tail -n 40 "$log" >&2
    ls "$work"/"$t"-* 2>/dev/null | while read -r a; do cp "$a" . && echo "kept artifact $(basename "$a")" >&2; done
  fi
  printf '%-16s %12s %10s %8s\n' "$t" "${execs:-?}" "${features:-?}" "$result"
done
exit $status
