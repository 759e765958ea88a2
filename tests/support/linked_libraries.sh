#!/usr/bin/env bash
# Usage: linked_libraries.sh BINARY NEEDED... -- NOT_NEEDED...
# Fails unless BINARY's dynamic section names every NEEDED library and none of NOT_NEEDED (each
# a prefix such as libpq.so). The NEEDED list proves readelf read the binary at all.
set -euo pipefail
binary=$1
shift
needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[[ -n $needed ]] || { echo "readelf found no NEEDED entries in $binary" >&2; exit 1; }
want=1
status=0
for lib in "$@"; do
  if [[ $lib == -- ]]; then want=0; continue; fi
  if grep -q "^$lib" <<<"$needed"; then found=1; else found=0; fi
  if [[ $found -ne $want ]]; then
    echo "$binary: $lib $([[ $want -eq 1 ]] && echo 'not linked' || echo 'linked')" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "$binary links: $(tr '\n' ' ' <<<"$needed")"
exit $status
