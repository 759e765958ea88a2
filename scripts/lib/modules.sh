# PKCS#11 modules other than SoftHSM, for the tests and benchmarks that prove imprint on them
# (docs/operations.md, "Tested modules"). Source after scripts/lib/line.sh; needs $bin and $run.
# Every PIN is written to a 0600 file and reaches the module through imprint-test-token or an
# environment variable, never a command line.

# --- opencryptoki 3.8, soft token (slot 3) ------------------------------------------------------
# opencryptoki keeps its state at fixed system paths: one slot daemon (pkcsslotd) per machine
# and one soft token under /var/lib/opencryptoki/swtok. So these functions share the machine's:
# they start pkcsslotd only if it is not running (and stop only what they started), and they
# initialise the soft token only if it is uninitialised or was left by an earlier run of theirs
# (label $ock_label), wiping it again afterwards. A soft token someone else initialised is
# never touched: ock_token fails with exit status 77 (a skip), naming it.
ock_module=/usr/lib/x86_64-linux-gnu/pkcs11/PKCS11_API.so
ock_swtok=/var/lib/opencryptoki/swtok
ock_label=imprint-ock-test
ock_started=0
ock_owned=0

ock_daemon_running() { pgrep -x pkcsslotd >/dev/null; }

ock_start() {
  ock_daemon_running && return 0
  # Its lock directories live on /run, made at boot by systemd-tmpfiles: a machine that installed
  # the package without booting since (a CI container) has none, and pkcsslotd will not start.
  if [[ ! -d /var/lock/opencryptoki/swtok ]]; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/opencryptoki.conf 2>/dev/null ||
      install -d -m 0770 -g pkcs11 /var/lock/opencryptoki /var/lock/opencryptoki/swtok
  fi
  pkcsslotd || { echo "pkcsslotd would not start" >&2; return 1; }
  ock_started=1
  for _ in $(seq 100); do [[ -S /var/run/pkcsslotd.socket ]] && return 0; sleep 0.05; done
  echo "pkcsslotd started but its socket did not appear" >&2
  return 1
}

ock_stop() {
  (( ock_started )) || return 0
  pkill -x pkcsslotd || true
  for _ in $(seq 100); do ock_daemon_running || break; sleep 0.05; done
  ock_started=0
}

# The soft token's label, from its state file; empty when it is uninitialised.
ock_current_label() {
  [[ -f $ock_swtok/NVTOK.DAT ]] || return 0
  head -c 32 "$ock_swtok/NVTOK.DAT" | tr -d '\0' | sed 's/ *$//'
}

# Puts the soft token back to uninitialised (pkcsslotd stopped, no client running).
ock_wipe() {
  rm -f "$ock_swtok/NVTOK.DAT" "$ock_swtok/MK_SO" "$ock_swtok/MK_USER" "$ock_swtok"/TOK_OBJ/*
  rm -f /dev/shm/var.lib.opencryptoki.swtok
}

# ock_token: initialises the soft token as $ock_label; user PIN in $run/ock.pin (opencryptoki
# takes 4 to 8 characters). Call before ock_start: a wipe needs the daemon stopped.
ock_token() {
  if [[ $(id -u) -ne 0 ]] && ! id -nG | grep -qw pkcs11; then
    echo "opencryptoki needs root or group pkcs11 (its state is the machine's)" >&2
    return 77
  fi
  local current
  current=$(ock_current_label)
  if [[ -n $current && $current != "$ock_label" ]]; then
    echo "the opencryptoki soft token is in use (label '$current'): not touching it" >&2
    return 77
  fi
  if [[ -n $current ]]; then
    ock_daemon_running && { echo "a left-over $ock_label token needs pkcsslotd stopped to wipe" >&2; return 77; }
    ock_wipe
  fi
  ock_owned=1
  ock_start
  ( umask 077
    printf '87654321' > "$run/ock-so.pin"  # opencryptoki's documented initial SO PIN
    head -c 6 /dev/urandom | base64 | tr -d '\n' > "$run/ock.pin" )
  "$bin/imprint-test-token" --module "$ock_module" --label "$ock_label" \
    --so-pin-file "$run/ock-so.pin" --pin-file "$run/ock.pin"
}

# ock_cleanup: stops what ock_start started and wipes the token ock_token made.
ock_cleanup() {
  local was_started=$ock_started
  ock_stop
  if (( ock_owned )) && (( was_started )); then ock_wipe; fi
  ock_owned=0
}

# --- tpm2-pkcs11 on a software TPM -------------------------------------------------------------
# swtpm (TPM 2.0) on two free loopback ports, a private D-Bus session bus, and tpm2-abrmd on that
# bus as the resource manager; tpm2-pkcs11 keeps its store under $TPM2_PKCS11_STORE
# ($run/tpm2-store unless the caller points it elsewhere). Everything is this run's own and stops
# with line_cleanup.
tpm_module=/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so

tpm_free_port_pair() {
  /usr/bin/python3 - <<'PY'
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); port = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", port + 1))
    except OSError:
        continue
    finally:
        a.close(); b.close()
    print(port)
    break
PY
}

# swtpm_serve STATE_DIR: a swtpm on a free loopback port pair for the TPM state in STATE_DIR,
# returning once it answers a TPM command; sets swtpm_port (its data port; control on the next
# one). A swtpm that dies (its port taken meanwhile) is started again on another pair.
swtpm_serve() {
  local attempt pid
  for attempt in 1 2 3 4 5; do
    swtpm_port=$(tpm_free_port_pair)
    swtpm socket --tpm2 --tpmstate dir="$1" --flags not-need-init,startup-clear \
      --server type=tcp,port="$swtpm_port",bindaddr=127.0.0.1 \
      --ctrl type=tcp,port=$((swtpm_port + 1)),bindaddr=127.0.0.1 >> "$run/swtpm.log" 2>&1 &
    pid=$!
    line_pids+=("$pid")
    for _ in $(seq 200); do
      kill -0 "$pid" 2>/dev/null || break
      tpm2_getrandom -T "swtpm:host=127.0.0.1,port=$swtpm_port" 4 >/dev/null 2>&1 && return 0
      sleep 0.05
    done
    kill "$pid" 2>/dev/null || true
  done
  echo "swtpm would not start:" >&2
  cat "$run/swtpm.log" >&2
  return 1
}

tpm_start() {
  mkdir -p "$run/tpm-state" "$run/tpm2-store"
  swtpm_serve "$run/tpm-state" || return 1
  local port=$swtpm_port
  local bus
  bus=$(dbus-daemon --session --fork --print-address=1 --print-pid=1 | tr '\n' ' ')
  export DBUS_SESSION_BUS_ADDRESS=${bus%% *}
  local bus_pid=${bus#* }
  line_pids+=("${bus_pid% }")
  local root=()
  [[ $(id -u) -eq 0 ]] && root=(--allow-root)
  tpm2-abrmd --session "${root[@]}" --flush-all --tcti="swtpm:host=127.0.0.1,port=$port" \
    >> "$run/abrmd.log" 2>&1 &
  line_pids+=("$!")
  export TPM2TOOLS_TCTI=tabrmd:bus_type=session
  export TPM2_PKCS11_TCTI=tabrmd:bus_type=session
  export TPM2_PKCS11_STORE=$run/tpm2-store
  for _ in $(seq 100); do
    tpm2_getrandom 4 >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "tpm2-abrmd did not come up:" >&2
  cat "$run/abrmd.log" >&2
  return 1
}

# tpm_token LABEL: a tpm2-pkcs11 token in the store $TPM2_PKCS11_STORE (made if new); user PIN in
# $run/tpm.pin (the same for every token of the run).
tpm_token() {
  mkdir -p "$TPM2_PKCS11_STORE"
  tpm2_ptool init >/dev/null
  ( umask 077
    [[ -s $run/tpm-so.pin ]] || head -c 18 /dev/urandom | base64 > "$run/tpm-so.pin"
    [[ -s $run/tpm.pin ]] || head -c 18 /dev/urandom | base64 > "$run/tpm.pin" )
  "$bin/imprint-test-token" --module "$tpm_module" --label "$1" \
    --so-pin-file "$run/tpm-so.pin" --pin-file "$run/tpm.pin"
}
