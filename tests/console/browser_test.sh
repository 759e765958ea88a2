#!/usr/bin/env bash
# The console in a real browser: a CA serving its console, two users (an operator and a
# viewer, each with a one-time password), station line-1, order PO-1 for a line of 200
# simulated devices and PO-2 for one misbehaving device; then console_test.mjs drives Debian's
# Chromium through it with playwright-core (pinned by package-lock.json; it never downloads a
# browser). Usage: browser_test.sh BIN_DIR OUT_DIR (screenshots land in OUT_DIR).
set -euo pipefail
bin=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
run=$(mktemp -d "${TMPDIR:-/tmp}/imprint-console-XXXXXX")
source "$here/../../scripts/lib/line.sh"
source "$here/../../scripts/lib/console_node.sh"
trap 'line_cleanup; rm -rf "$run"' EXIT

command -v chromium >/dev/null || { echo "chromium is not installed (scripts/install-deps.sh)" >&2; exit 1; }
# The npm packages, from the lockfile, once per lockfile (kept beside the screenshots' parent).
modules=$out/../console-node
mkdir -p "$out"
rm -f "$out"/*.png
console_node "$modules"
cp "$here/console_test.mjs" "$modules/"

line_token >/dev/null
line_ca_init >/dev/null 2>&1
printf '[console]\nlisten = "127.0.0.1:0"\n' >> "$run/ca.toml"
operator_pw=$("$bin/imprint-ca" console user add --config "$run/ca.toml" olga --role operator 2>/dev/null)
viewer_pw=$("$bin/imprint-ca" console user add --config "$run/ca.toml" victor --role viewer 2>/dev/null)
line_ca_start
console_addr=$(sed -n 's|^console on https://||p' "$run/ca.out")
[[ -n $console_addr ]] || { echo "no console address" >&2; exit 1; }
line_station line-1 >/dev/null
line_order PO-1 200 line-1 >/dev/null
line_order PO-2 5 line-1 >/dev/null
line_agents good 200  # devices good-00001 .. good-00200
agent=imprint-agent-hostile line_agents wrong-proof-key 1 wrong-proof-key

spki=$(openssl x509 -in "$run/ca/tls-cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)
station="$bin/imprint-station provision --state-dir $run/station-line-1 --ca $ca_addr"
CONSOLE_URL="https://$console_addr" SCREENSHOTS="$out" TLS_SPKI_SHA256="$spki" \
OPERATOR_PASSWORD="$operator_pw" VIEWER_PASSWORD="$viewer_pw" \
PROVISION_LINE="$station --order PO-1 --devices-file $run/good.txt --parallel 16 > $run/line.out 2>&1" \
PROVISION_MISBEHAVING="$station --order PO-2 --devices-file $run/wrong-proof-key.txt --parallel 1 > $run/bad.out 2>&1" \
FIND_DEVICE=good-00042 BAD_DEVICE=wrong-proof-key-00001 \
  node "$modules/console_test.mjs"
