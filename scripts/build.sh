#!/usr/bin/env bash
# Configures and builds imprint. Usage: scripts/build.sh [--sanitize address|thread] [--werror]
# Plain builds go to build/, sanitizer builds to build-asan/ or build-tsan/.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
werror=OFF
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sanitize) sanitize="${2:?--sanitize needs address or thread}"; shift 2 ;;
    --werror) werror=ON; shift ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

case "$sanitize" in
  "") build_dir=build ;;
  address) build_dir=build-asan ;;
  thread) build_dir=build-tsan ;;
  *) echo "build.sh: --sanitize takes address or thread" >&2; exit 2 ;;
esac

cmake -S . -B "$build_dir" -DIMPRINT_SANITIZE="$sanitize" -DIMPRINT_WERROR="$werror" >/dev/null
cmake --build "$build_dir" -j"${IMPRINT_JOBS:-2}"
echo "$build_dir"
