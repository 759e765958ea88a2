#!/usr/bin/env bash
# Usage: core_symbols.sh LIBIMPRINT_MCU_CORE.a
# The C agent's core must carry into firmware as it is: it may call only memcpy, memmove,
# memset, memcmp and strlen (and the sanitizers' hooks in a sanitizer build). No malloc, free,
# printf, time or file call: everything else comes through the port (imprint_port.h).
set -euo pipefail
archive=$1
# What one object calls and another defines is the core's own.
defined=$(nm --defined-only "$archive" | awk 'NF == 3 {print $3}' | sort -u)
mapfile -t undefined < <(nm -u "$archive" | awk 'NF == 2 {print $2}' | sort -u |
  comm -23 - <(echo "$defined"))
[[ ${#undefined[@]} -gt 0 ]] || { echo "nm found no undefined symbols in $archive" >&2; exit 1; }
status=0
for s in "${undefined[@]}"; do
  case $s in
    memcpy | memmove | memset | memcmp | strlen) ;;
    __asan_* | __ubsan_* | __sanitizer_* | __tsan_* | __sanitizer_cov_*) ;;
    *) echo "$archive calls $s" >&2; status=1 ;;
  esac
done
[[ $status -eq 0 ]] && echo "the core calls only: $(printf '%s ' "${undefined[@]}" | tr -s ' ')"
exit $status
