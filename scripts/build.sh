#!/usr/bin/env bash
# Configures and builds imprint.
# Usage: scripts/build.sh [--sanitize address|thread] [--werror] [--target T]...
# Plain builds go to build/, sanitizer builds to build-asan/ or build-tsan/. --target builds only
# those targets (and what they need); default: everything. Uses ccache when it is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
werror=()
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sanitize) sanitize="${2:?--sanitize needs address or thread}"; shift 2 ;;
    --werror) werror=(-DIMPRINT_WERROR=ON); shift ;;
    --target) targets+=(--target "${2:?--target needs a name}"); shift 2 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

case "$sanitize" in
  "") build_dir=build ;;
  address) build_dir=build-asan ;;
  thread) build_dir=build-tsan ;;
  *) echo "build.sh: --sanitize takes address or thread" >&2; exit 2 ;;
esac

source scripts/lib/ccache.sh
# Without --werror an existing build keeps its setting (new builds default to OFF): bench.sh
# after a --werror test run must not reconfigure, and so recompile, the whole tree.
cmake -S . -B "$build_dir" -DIMPRINT_SANITIZE="$sanitize" "${werror[@]}" \
  "${compiler_launcher[@]}" >/dev/null
cmake --build "$build_dir" -j"${IMPRINT_JOBS:-2}" "${targets[@]}"
echo "$build_dir"
