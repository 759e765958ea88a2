#!/usr/bin/env bash
# Installs what is missing, builds and runs the whole CTest suite; exits non-zero on any failure.
# Usage: scripts/test.sh [--sanitize address|thread] [--werror] [--target T]...
#        [-- extra ctest arguments]
# --target builds only those test executables (pair it with a ctest -R that selects their tests:
# a test of an executable that was not built fails as NOT_BUILT).
set -euo pipefail
cd "$(dirname "$0")/.."

build_args=()
ctest_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sanitize)
      build_args+=("$1" "${2:?--sanitize needs address or thread}")
      # Under a sanitizer the longest e2e case (ca-crash) runs a smaller scale, and the HTTP
      # attack cases report the CA's memory without judging it (the sanitizer's own).
      export IMPRINT_E2E_SANITIZED=1
      shift 2 ;;
    --werror) build_args+=("$1"); shift ;;
    --target) build_args+=("$1" "${2:?--target needs a name}"); shift 2 ;;
    --) shift; ctest_args=("$@"); break ;;
    *) echo "test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
build_dir=$(scripts/build.sh "${build_args[@]}" | tail -n 1)

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# TSan without suppressions. Debian's gRPC, abseil, OpenSSL, SoftHSM and libpq are not built
# with TSan, so their locks are invisible to it; ignore_noninstrumented_modules makes the
# interceptors (memcpy, free, ...) ignore calls those libraries make, and what they do themselves
# is not seen at all. Before it, race: lines naming those libraries were needed, and because TSan
# matches a race: line against every frame of both stacks, they also hid any race in our own
# handlers, which run on gRPC's threads (measured 2026-12-06: the TSan stage without the option
# and without the gRPC lines gave 2568 reports; the only imprint frames on top of an access were
# protobuf-generated message constructors on gRPC's hand-over, none in hand-written code).
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1}"
# Sanitizer runtimes do not mix with SoftHSM's own leaks at exit; suppress only those.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/support/lsan.supp:print_suppressions=0}"

# A throwaway PostgreSQL for the "[postgres]" copies of the store tests and the multi-node
# tests: its own directory, a Unix socket only, stopped and removed on exit.
source scripts/lib/postgres.sh
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/imprint-pg-XXXXXX")
trap 'pg_stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
pg_start "$pg_dir"
export IMPRINT_TEST_PG_HOST=$pg_dir

ctest --test-dir "$build_dir" --output-on-failure -j"${IMPRINT_JOBS:-2}" "${ctest_args[@]}"
