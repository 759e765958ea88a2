#!/usr/bin/env bash
# Labels at the line, end to end through the real binaries (docs/labels.md): imprint-station
# prints each device's label from templates/labels/password.zpl, a loopback fake printer on
# TCP records what it receives, zpl-renderer-js renders it to PNG and Debian's zbarimg reads
# the barcodes back; scan-back binds labels at a real imprint-ca on SoftHSM.
# Usage: label_test.sh BIN_DIR NODE_DIR CASE, CASE one of
#   print  50 devices at P=16: 50 labels, each rendered and read back: the QR's password is the
#          one the device holds, the Code 128 label code the one its certificate gives; a second
#          run prints nothing; bad templates refused before any device
#   crash  the station killed (SIGKILL's exit) between a device's commit and its label, then
#          while a label was being sent: resumed, every label printed once, the one cut while
#          sending left in doubt and reprinted by hand, logged; a file sink settles by itself
#   down   the printer down: provisioning goes on, labels wait and the summary says so;
#          `label print` sends them once it is back; a printer that returns mid-run gets them
#   bind   scan-back of 50 units (pairs from the labels' own barcodes, and units asked from
#          their agents): a swapped label, an unknown code and a scan that is no label code
#          refused and audited; an order that requires labels closes only when all are bound;
#          bound passwords leave labels.jsonl; device show and the manifest carry the label
set -euo pipefail
bin=$1
node_dir=$2
case=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
run=$(mktemp -d "${TMPDIR:-/tmp}/imprint-labels-XXXXXX")
source "$repo/scripts/lib/line.sh"
source "$repo/scripts/lib/console_node.sh"
source "$here/e2e_lib.sh"
trap 'line_show_logs $?; line_cleanup; rm -rf "$run"' EXIT
py=/usr/bin/python3
template=$repo/templates/labels/password.zpl
ca() { "$bin/imprint-ca" "$@" --config "$run/ca.toml"; }
station() { "$bin/imprint-station" "$@"; }

# printer NAME [PORT]: a fake printer storing into $run/NAME/; its port in $printer_port.
printer() {
  mkdir -p "$run/$1"
  rm -f "$run/$1.port"
  $py "$here/fake_printer.py" "$run/$1.port" "$run/$1" "${2:-0}" 2>> "$run/printer.log" &
  printer_pid=$!
  line_pids+=("$printer_pid")
  for _ in $(seq 200); do [[ -s $run/$1.port ]] && break; sleep 0.05; done
  printer_port=$(cat "$run/$1.port")
}
free_port() {
  $py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# provision ORDER DEVICES OUT [ARGS...]: the station's exit code.
provision() {
  local order=$1 devices=$2 out=$3
  shift 3
  station provision --state-dir "$run/station-line-1" --ca "$ca_addr" --order "$order" \
    --devices-file "$run/$devices.txt" --parallel 16 "$@" > "$run/$out" 2>&1
}
# codes DIR: the label codes in the ZPL a printer received, one a line.
codes() { cat "$1"/*.zpl 2>/dev/null | grep -o 'IMP1-[0-9A-F]\{16\}' || true; }
# render ZPL_DIR PNG_DIR: every label rendered by zpl-renderer-js.
render() {
  mkdir -p "$2"
  node "$node_dir/render.mjs" "$2" "$1"/*.zpl
}

line_token >/dev/null
line_ca_config
"$bin/imprint-ca" init --config "$run/ca.toml" >/dev/null 2>&1
line_ca_start
line_station line-1 >/dev/null
if [[ $case == print || $case == bind ]]; then
  labels_node "$node_dir" >/dev/null
  cp "$repo/tests/labels/render.mjs" "$node_dir/render.mjs"
fi

case $case in
print)
  # Templates are checked before any device is touched.
  line_order PO-L 60 line-1 >/dev/null
  line_agents cam 50
  printer tcp
  sed 's/{{serial}}/{{colour}}/' "$template" > "$run/unknown.zpl"
  sed 's/\^BCN,90,Y,N,N^FD{{label_code}}/^BCN,90,Y,N,N^FD{{password}}/' "$template" > "$run/linear.zpl"
  if provision PO-L cam bad.out --printer "tcp://127.0.0.1:$printer_port" \
      --label-template "$run/unknown.zpl"; then fail "a template with an unknown field was taken"; fi
  grep -q "unknown field {{colour}}" "$run/bad.out" || fail "unknown field: $(cat "$run/bad.out")"
  if provision PO-L cam bad.out --printer "tcp://127.0.0.1:$printer_port" \
      --label-template "$run/linear.zpl"; then fail "a password in a Code 128 was taken"; fi
  grep -q "{{password}} is secret and may not stand in a 1D barcode (^BC)" "$run/bad.out" ||
    fail "secret in 1D: $(cat "$run/bad.out")"
  expect_eq "$(order_field PO-L issued)" 0 "issued after the refused templates"

  provision PO-L cam line.out --printer "tcp://127.0.0.1:$printer_port" \
    --label-template "$template" || fail "provision: $(cat "$run/line.out")"
  grep -q "summary: 50 provisioned" "$run/line.out" || fail "$(cat "$run/line.out")"
  grep -q "labels: 50 printed, 0 waiting, 0 in doubt" "$run/line.out" || fail "$(cat "$run/line.out")"
  expect_eq "$(ls "$run/tcp" | grep -c '\.zpl$')" 50 "labels the printer received"
  render "$run/tcp" "$run/png"
  $py "$here/check_labels.py" "$run/png" "$run/cam" 50 || fail "the rendered labels"
  # A second run finds every device provisioned and prints nothing again.
  provision PO-L cam again.out --printer "tcp://127.0.0.1:$printer_port" \
    --label-template "$template" || fail "second run: $(cat "$run/again.out")"
  grep -q "labels: 0 printed, 0 waiting" "$run/again.out" || fail "$(cat "$run/again.out")"
  expect_eq "$(ls "$run/tcp" | grep -c '\.zpl$')" 50 "labels after a second run"
  station label status --state-dir "$run/station-line-1" --order PO-L > "$run/status.out"
  grep -q "labels waiting 0, in doubt 0, printed 50 (0 reprinted), without a printer 0, bound 0" \
    "$run/status.out" || fail "label status: $(cat "$run/status.out")"
  ;;
crash)
  line_order PO-C 40 line-1 >/dev/null
  line_agents cam 20
  printer tcp
  # Killed right after the first device's transaction ended, before any label was sent.
  if "$bin/imprint-station-crashing" reported provision --state-dir "$run/station-line-1" \
      --ca "$ca_addr" --order PO-C --devices-file "$run/cam.txt" --parallel 4 \
      --printer "tcp://127.0.0.1:$printer_port" --label-template "$template" \
      > "$run/crash1.out" 2>&1; then fail "the crashing station finished"; fi
  before=$(codes "$run/tcp" | wc -l)
  # Killed again: this time while the first label of the run was being sent.
  if "$bin/imprint-station-crashing" label-sending provision --state-dir "$run/station-line-1" \
      --ca "$ca_addr" --order PO-C --devices-file "$run/cam.txt" --parallel 4 \
      --printer "tcp://127.0.0.1:$printer_port" --label-template "$template" \
      > "$run/crash2.out" 2>&1; then fail "the crashing station finished (2)"; fi
  provision PO-C cam resume.out --printer "tcp://127.0.0.1:$printer_port" \
    --label-template "$template" || fail "resume: $(cat "$run/resume.out")"
  grep -q "labels: 19 printed, 0 waiting, 1 in doubt" "$run/resume.out" ||
    fail "resume: $(cat "$run/resume.out") (printed before the crashes: $before)"
  expect_eq "$(codes "$run/tcp" | sort | uniq -d | wc -l)" 0 "labels printed twice"
  expect_eq "$(codes "$run/tcp" | wc -l)" 19 "labels after the resume"
  station label status --state-dir "$run/station-line-1" --order PO-C > "$run/status.out"
  doubtful=$(sed -n 's/^in doubt: //p' "$run/status.out")
  [[ $doubtful =~ ^cam-[0-9]+$ ]] || fail "in doubt: $(cat "$run/status.out")"
  # The operator checks the printer, then reprints that one; the journal keeps the reason.
  station label reprint --state-dir "$run/station-line-1" --order PO-C --device "$doubtful" \
    --printer "tcp://127.0.0.1:$printer_port" --label-template "$template" \
    --reason "cut by a crash, not on the printer" > "$run/reprint.out" ||
    fail "reprint: $(cat "$run/reprint.out")"
  expect_eq "$(codes "$run/tcp" | sort -u | wc -l)" 20 "every device's label"
  expect_eq "$(codes "$run/tcp" | wc -l)" 20 "labels in all"
  sqlite3 "$run/station-line-1/journal.db" \
    "SELECT device_id || ' ' || event || ' ' || detail FROM label_events" > "$run/events.out"
  grep -q "^$doubtful reprint print 2: cut by a crash" "$run/events.out" ||
    fail "reprint log: $(cat "$run/events.out")"
  # A file sink settles a label cut while sending: written or not, the file says.
  line_order PO-F 10 line-1 >/dev/null
  line_agents bulb 5
  mkdir -p "$run/files"
  if "$bin/imprint-station-crashing" label-sending provision --state-dir "$run/station-line-1" \
      --ca "$ca_addr" --order PO-F --devices-file "$run/bulb.txt" --parallel 2 \
      --printer "file:$run/files" --label-template "$template" > "$run/crash3.out" 2>&1; then
    fail "the crashing station finished (3)"
  fi
  provision PO-F bulb files.out --printer "file:$run/files" --label-template "$template" ||
    fail "file resume: $(cat "$run/files.out")"
  grep -q "labels: 5 printed, 0 waiting, 0 in doubt" "$run/files.out" || fail "$(cat "$run/files.out")"
  expect_eq "$(ls "$run/files" | grep -c '^PO-F\..*\.zpl$')" 5 "label files"
  expect_eq "$(stat -c %a "$run/files/$(ls "$run/files" | head -1)")" 600 "label file mode"
  ;;
down)
  line_order PO-D 40 line-1 >/dev/null
  line_agents cam 20
  port=$(free_port)
  provision PO-D cam down.out --printer "tcp://127.0.0.1:$port" --label-template "$template" \
    --printer-wait 0 || fail "provisioning stopped with the printer: $(cat "$run/down.out")"
  grep -q "summary: 20 provisioned" "$run/down.out" || fail "$(cat "$run/down.out")"
  grep -q "labels: 0 printed, 20 waiting, 0 in doubt (printer tcp://127.0.0.1:$port: " \
    "$run/down.out" || fail "$(cat "$run/down.out")"
  printer back "$port"
  station label print --state-dir "$run/station-line-1" --order PO-D \
    --printer "tcp://127.0.0.1:$port" --label-template "$template" > "$run/print.out" ||
    fail "label print: $(cat "$run/print.out")"
  grep -q "labels: 20 printed, 0 waiting" "$run/print.out" || fail "$(cat "$run/print.out")"
  station label print --state-dir "$run/station-line-1" --order PO-D \
    --printer "tcp://127.0.0.1:$port" --label-template "$template" > "$run/print2.out"
  grep -q "labels: 0 printed, 0 waiting" "$run/print2.out" || fail "$(cat "$run/print2.out")"
  expect_eq "$(codes "$run/back" | sort -u | wc -l)" 20 "labels once the printer is back"
  expect_eq "$(codes "$run/back" | wc -l)" 20 "labels in all"
  # The printer returns while the line runs: the run's end waits for it.
  kill "$printer_pid"
  line_agents bulb 10
  line_order PO-E 10 line-1 >/dev/null
  port=$(free_port)
  ( sleep 1.5; exec $py "$here/fake_printer.py" "$run/late.port" "$run/late" "$port" ) \
    2>> "$run/printer.log" &
  line_pids+=("$!")
  mkdir -p "$run/late"
  provision PO-E bulb late.out --printer "tcp://127.0.0.1:$port" --label-template "$template" \
    --printer-wait 60 || fail "$(cat "$run/late.out")"
  grep -q "labels: 10 printed, 0 waiting, 0 in doubt" "$run/late.out" || fail "$(cat "$run/late.out")"
  expect_eq "$(codes "$run/late" | sort -u | wc -l)" 10 "labels once the printer returned"
  ;;
bind)
  ca order create --id PO-B --product cam-v2 --quota 60 --station line-1 --require-labels >/dev/null
  line_agents cam 50
  mkdir -p "$run/files"
  provision PO-B cam line.out --printer "file:$run/files" --label-template "$template" ||
    fail "provision: $(cat "$run/line.out")"
  grep -q "labels: 50 printed" "$run/line.out" || fail "$(cat "$run/line.out")"
  if ca order close --id PO-B > "$run/close.out" 2>&1; then fail "closed with unbound labels"; fi
  grep -q "requires bound labels: 50 verified devices have none" "$run/close.out" ||
    fail "close: $(cat "$run/close.out")"
  # What the scanner reads: each label rendered and its Code 128 read by zbarimg.
  render "$run/files" "$run/png"
  : > "$run/scans.txt"
  for png in "$run/png"/*.png; do
    device=$(basename "$png" .png)
    device=${device#PO-B.}
    scan=$(zbarimg -q --raw -Sdisable -Scode128.enable "$png" 2>/dev/null)
    echo "$device $scan" >> "$run/scans.txt"
  done
  expect_eq "$(grep -c ' IMP1-' "$run/scans.txt")" 50 "label codes read back"
  a=$(sed -n 1p "$run/scans.txt")
  b=$(sed -n 2p "$run/scans.txt")
  # Device A's label stuck on unit B, a code no label carries, a scan of the QR instead of the
  # label, and of the QR instead of the unit.
  printf '%s %s\n%s IMP1-0000000000000000\n%s\n%s\n%s %s\n' "${b%% *}" "${a##* }" "${a%% *}" \
    "${a%% *}" "imprint:${a%% *}?password=secret" "imprint:${a%% *}?password=secret" \
    "${a##* }" > "$run/wrong.txt"
  if station label bind --state-dir "$run/station-line-1" --ca "$ca_addr" --order PO-B \
      --pairs "$run/wrong.txt" > "$run/wrong.out" 2> "$run/wrong.err"; then
    fail "wrong labels bound"
  fi
  grep -q "bind: 0 bound, 0 already bound, 4 refused" "$run/wrong.out" || fail "$(cat "$run/wrong.out")"
  grep -q "REFUSED: unit ?: the unit's scan is not a device id (" "$run/wrong.err" ||
    fail "$(cat "$run/wrong.err")"
  grep -q "REFUSED: unit ${b%% *}: label ${a##* } is not device ${b%% *}'s; it carries the label of device ${a%% *}" \
    "$run/wrong.err" || fail "swapped: $(cat "$run/wrong.err")"
  grep -q "REFUSED: unit ${a%% *}: label IMP1-0000000000000000 is not device ${a%% *}'s; this station printed no label" \
    "$run/wrong.err" || fail "unknown: $(cat "$run/wrong.err")"
  grep -q "the label scan is not a label code (" "$run/wrong.err" || fail "$(cat "$run/wrong.err")"
  if grep -q "secret" "$run/wrong.err" "$run/wrong.out"; then fail "a scan was echoed"; fi
  expect_eq "$(ca audit export | grep -c '"event":"label.refused"')" 2 "refusals audited"
  # Units asked from their agents on the fixtures, their labels scanned one a line.
  head -5 "$run/cam.txt" > "$run/fixtures.txt"
  args=()
  while read -r address; do args+=(--device "$address"); done < "$run/fixtures.txt"
  # The simulated units on lines 1-5 of cam.txt are cam-00001..cam-00005: their labels' scans in
  # that order (a wrong guess here would be refused, not bound).
  for i in 1 2 3 4 5; do grep "^cam-0000$i " "$run/scans.txt" | cut -d' ' -f2; done \
    > "$run/fixture-scans.txt"
  station label bind --state-dir "$run/station-line-1" --ca "$ca_addr" --order PO-B "${args[@]}" \
    < "$run/fixture-scans.txt" > "$run/fixtures.out" 2>&1 || fail "fixtures: $(cat "$run/fixtures.out")"
  grep -q "bind: 5 bound, 0 already bound, 0 refused" "$run/fixtures.out" ||
    fail "$(cat "$run/fixtures.out")"
  # The rest from the file of pairs; the five bound already change nothing.
  station label bind --state-dir "$run/station-line-1" --ca "$ca_addr" --order PO-B \
    --pairs "$run/scans.txt" > "$run/bind.out" 2>&1 || fail "bind: $(cat "$run/bind.out")"
  grep -q "bind: 45 bound, 5 already bound, 0 refused, 0 unanswered" "$run/bind.out" ||
    fail "$(cat "$run/bind.out")"
  expect_eq "$(ca audit export | grep -c '"event":"label.bound"')" 50 "bindings audited"
  expect_eq "$(grep -c default_password "$run/station-line-1/labels.jsonl" || true)" 0 \
    "passwords left on the station"
  expect_eq "$(grep -c '"secrets_dropped":true' "$run/station-line-1/labels.jsonl")" 50 \
    "label records without their secrets"
  first=${a%% *}
  ca device show --id "$first" > "$run/device.out"
  grep -q "^label ${a##* } bound .* by station line-1$" "$run/device.out" ||
    fail "device show: $(cat "$run/device.out")"
  ca order show --id PO-B > "$run/order.out"
  grep -q "^labels bound 50 (required)$" "$run/order.out" || fail "order show: $(cat "$run/order.out")"
  ca export --order PO-B --format manifest --out "$run/manifest" > /dev/null
  "$bin/imprint-ca" manifest verify --root "$run/ca/root.pem" "$run/manifest/manifest.json" \
    > /dev/null || fail "manifest verify"
  $py - "$run/manifest/manifest.json" "$run/scans.txt" <<'PY' || fail "manifest labels"
import base64, json, sys
scans = dict(line.split() for line in open(sys.argv[2]))
entries = json.load(open(sys.argv[1]))
seen = 0
for entry in entries:
    payload = entry["payload"] if isinstance(entry, dict) and "payload" in entry else entry
    if isinstance(payload, str):
        payload = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    label = payload.get("label", {})
    if label.get("code") != scans[payload["uniqueId"]] or "boundTimestamp" not in label:
        sys.exit("manifest entry of %s: label %r" % (payload["uniqueId"], label))
    seen += 1
if seen != 50:
    sys.exit("%d manifest entries" % seen)
PY
  ca order close --id PO-B > /dev/null || fail "close once every label is bound"
  ;;
*)
  fail "unknown case $case"
  ;;
esac
echo "labels $case: ok"
