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
# One agent, as the firmware holds it: its size is the object's bss, on the target.
printf '#include "imprint_agent.h"\nimprint_agent probe;\n' > "$work/ram.c"
# shellcheck disable=SC2086
$cc -std=c11 -Os -fno-common -Imcu_agent/core -c "$work/ram.c" -o "$work/ram.o"
ram=$(size "$work/ram.o" | awk 'NR == 2 {print $3}')
echo "agent RAM: $ram bytes (one imprint_agent: record $(grep -o 'RECORD_MAX [0-9]*' \
  mcu_agent/core/imprint_agent.h | cut -d' ' -f2), request frame buffer, response and its frame)"
echo "deepest stack frames:"
cat "$work"/*.su | sort -t$'\t' -k2 -n -r | head -n 5 | sed 's/^.*:\([a-z_]*\)\t/  \1\t/'
