#!/usr/bin/env bash
# The systemd units in packaging/systemd: `systemd-analyze verify` accepts them without a
# single warning (an unknown or misspelt directive is only a warning there, so any output
# fails), with ExecStart pointed at the built binaries; and the hardening the units promise is
# there. Usage: systemd_units_test.sh BIN_DIR
set -euo pipefail
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)/packaging/systemd
work=$(mktemp -d "${TMPDIR:-/tmp}/imprint-units-XXXXXX")
run=$work/run
source "$(dirname "$0")/../../scripts/lib/line.sh"
trap 'line_cleanup; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

sed "s|/usr/bin/imprint-ca|$bin/imprint-ca|" "$src/imprint-ca.service" > "$work/imprint-ca.service"
sed "s|/usr/bin/imprint-station|$bin/imprint-station|" "$src/imprint-station@.service" \
  > "$work/imprint-station@.service"
cp "$work/imprint-station@.service" "$work/imprint-station@PO-1.service"

verify() {
  local out rc=0
  out=$(cd "$work" && systemd-analyze verify "$@" 2>&1) || rc=$?
  echo "$out"
  return $rc
}

# The check itself can fail: a misspelt directive produces output.
printf '[Service]\nExecStart=%s/imprint-ca\nProtectSystm=strict\n' "$bin" > "$work/typo.service"
[[ -n $(verify "$work/typo.service" || true) ]] || fail "systemd-analyze said nothing about a typo"

out=$(verify "$work/imprint-ca.service" "$work/imprint-station@PO-1.service") ||
  fail "systemd-analyze verify: $out"
[[ -z $out ]] || fail "systemd-analyze verify warned: $out"

for directive in Type=notify User=imprint StateDirectory=imprint-ca ProtectSystem=strict \
    NoNewPrivileges=yes PrivateTmp=yes SystemCallFilter=@system-service LimitNOFILE=65536 \
    CapabilityBoundingSet=; do
  grep -qx "$directive" "$src/imprint-ca.service" || fail "imprint-ca.service lacks $directive"
done
for directive in ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes \
    SystemCallFilter=@system-service StateDirectory=imprint-station; do
  grep -qx "$directive" "$src/imprint-station@.service" ||
    fail "imprint-station@.service lacks $directive"
done
# What Type=notify relies on: a real `imprint-ca serve` tells the notify socket READY=1 once it
# listens, and STOPPING=1 on SIGTERM. The socket is a Unix datagram socket as systemd's.
mkdir -p "$run"
line_token >/dev/null
line_ca_init >/dev/null
/usr/bin/python3 - "$work/notify.sock" "$work/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "w") as log:
    for _ in range(2):
        log.write(s.recv(4096).decode() + "\n")
        log.flush()
PY
listener=$!
for _ in $(seq 100); do [[ -S $work/notify.sock ]] && break; sleep 0.05; done
NOTIFY_SOCKET=$work/notify.sock line_ca_start
for _ in $(seq 100); do grep -q READY=1 "$work/notify.log" 2>/dev/null && break; sleep 0.05; done
grep -q READY=1 "$work/notify.log" || fail "no READY=1 on the notify socket"
line_ca_stop
wait "$listener" || true
grep -q STOPPING=1 "$work/notify.log" || fail "no STOPPING=1: $(cat "$work/notify.log")"
echo "systemd units ok"
