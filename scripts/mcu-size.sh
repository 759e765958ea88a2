#!/usr/bin/env bash
# The C agent's core as a firmware would carry it (docs/porting.md): each file of
# mcu_agent/core compiled alone with -Os, its code and data (`size`), the RAM one agent needs
# (sizeof(imprint_agent), which the firmware holds statically) and the deepest stack frame of
# any core function (-fstack-usage; calls add up along a path, see docs/porting.md).
# Usage: scripts/mcu-size.sh [CC]   (default cc; e.g. arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb)
set -euo pipefail
cd "$(dirname "$0")/.."
cc=${1:-cc}
work=$(mktemp -d "${TMPDIR:-/tmp}/imprint-mcu-size-XXXXXX")
trap 'rm -rf "$work"' EXIT
objects=()
for c in mcu_agent/core/*.c; do
  o=$work/$(basename "${c%.c}").o
  # shellcheck disable=SC2086
  $cc -std=c11 -Os -ffunction-sections -fdata-sections -fstack-usage -Imcu_agent/core -c "$c" -o "$o"
  objects+=("$o")
done
echo "core objects (-Os, $cc):"
size -t "${objects[@]}" | sed "s|$work/||"
cat > "$work/ram.c" <<'C'
#include <stdio.h>
#include "imprint_agent.h"
int main(void) {
  printf("agent RAM: %zu bytes (sizeof(imprint_agent): record %u, request frame %zu, response %u, "
         "its frame %zu)\n", sizeof(imprint_agent), IMPRINT_AGENT_RECORD_MAX,
         (size_t)IMPRINT_FRAME_ENCODED_MAX(IMPRINT_AGENT_MAX_REQUEST), IMPRINT_AGENT_MAX_RESPONSE,
         (size_t)IMPRINT_FRAME_ENCODED_MAX(IMPRINT_AGENT_MAX_RESPONSE));
  return 0;
}
C
cc -std=c11 -Imcu_agent/core "$work/ram.c" -o "$work/ram" && "$work/ram"
echo "deepest stack frames:"
cat "$work"/*.su | sort -t$'\t' -k2 -n -r | head -n 5 | sed 's/^.*:\([a-z_]*\)\t/  \1\t/'
