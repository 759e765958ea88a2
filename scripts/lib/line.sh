# Shared by scripts/demo-line.sh and the end-to-end tests: set up and drive a simulated line
# in a run directory. Source it; then call the functions in order. Requires $bin (binaries)
# and $run (an empty directory). PINs are written to 0600 files and never passed as arguments.

line_pids=()

# line_show_logs STATUS: when STATUS (a script's exit status, from its EXIT trap) is not 0, the
# tail of every log of the run (CA, stations, agents, swtpm, tpm2-abrmd) on stderr, before the
# cleanup removes them: what a failure that does not repeat leaves to read. Logs hold no secrets.
line_show_logs() {
  [[ $1 -eq 0 ]] && return 0
  local log
  for log in "$run"/*.log; do
    [[ -f $log ]] || continue
    echo "--- last lines of $log" >&2
    tail -n 30 "$log" >&2
  done
  return 0
}

line_cleanup() {
  for pid in "${line_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Whatever has not stopped 10 s after SIGTERM (a CA still starting has SIGTERM blocked) is
  # killed, so a failed run ends instead of waiting for it.
  for _ in $(seq 100); do
    local running=0
    for pid in "${line_pids[@]}"; do
      local state
      state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
      [[ -n $state && $state != Z ]] && running=1
    done
    (( running )) || break
    sleep 0.1
  done
  for pid in "${line_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

# line_token: a SoftHSM token "imprint-ca" under $run/tokens with its own SOFTHSM2_CONF.
line_token() {
  mkdir -p "$run/tokens"
  chmod 700 "$run"
  export SOFTHSM2_CONF=$run/softhsm2.conf
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$run/tokens" > "$SOFTHSM2_CONF"
  ( umask 077
    head -c 18 /dev/urandom | base64 > "$run/so.pin"
    head -c 18 /dev/urandom | base64 > "$run/ca.pin" )
  "$bin/imprint-test-token" --label imprint-ca --so-pin-file "$run/so.pin" --pin-file "$run/ca.pin"
}

# line_ca_init: ca.toml and the key ceremony. On line_token's SoftHSM token unless ca_module,
# ca_token_uri and ca_pin_file name another; ca_key_type picks the CA's key type (P-256).
line_ca_init() {
  line_ca_config
  "$bin/imprint-ca" init --config "$run/ca.toml"
}

line_ca_config() {
  cat > "$run/ca.toml" <<TOML
[hsm]
module = "${ca_module:-/usr/lib/softhsm/libsofthsm2.so}"
token_uri = "${ca_token_uri:-pkcs11:token=imprint-ca}"
pin_file = "${ca_pin_file:-$run/ca.pin}"
[ca]
state_dir = "$run/ca"
organization = "Acme Devices"
key_type = "${ca_key_type:-P-256}"
[server]
listen = "127.0.0.1:0"
TOML
  # ca_store: a [store] section (e.g. PostgreSQL) instead of SQLite in state_dir.
  [[ -z ${ca_store:-} ]] || printf '%s\n' "$ca_store" >> "$run/ca.toml"
}

# line_wait_listening OUT PID: until the CA writing OUT says `listening on`, or PID exits.
# Bounded by exit, not by a short clock: a CA under a sanitizer on a loaded machine may take
# seconds to open its token and check its audit log (60 s at most).
line_wait_listening() {
  for _ in $(seq 1200); do
    grep -q '^listening on ' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 0
    sleep 0.05
  done
}

# line_ca_start [HOST:PORT [STATION_HOST:PORT]]: serves the CA (on the config's addresses unless
# given); sets ca_pid, ca_addr (the open listener: enrollment, and what stations are given) and
# ca_station_addr (the station listener).
line_ca_start() {
  local listen=()
  [[ $# -gt 0 ]] && listen=(--listen "$1")
  [[ $# -gt 1 ]] && listen+=(--station-listen "$2")
  : > "$run/ca.out"
  "$bin/imprint-ca" serve --config "$run/ca.toml" "${listen[@]}" > "$run/ca.out" 2>> "$run/ca.log" &
  ca_pid=$!
  line_pids+=("$ca_pid")
  line_wait_listening "$run/ca.out" "$ca_pid"
  ca_addr=$(sed -n 's/^listening on //p' "$run/ca.out" | head -n 1)
  [[ -n $ca_addr ]] || { echo "CA did not start:" >&2; cat "$run/ca.log" >&2; return 1; }
  ca_station_addr=$(sed -n 's/^stations on //p' "$run/ca.out" | head -n 1)
  ca_status_addr=$(sed -n 's|^status on http://||p' "$run/ca.out" | head -n 1)
}

# line_ca_stop: SIGTERM, then up to 60 s for the CA to finish its calls and seal its log; a CA
# that does not stop by then is a bug: it is killed and the call fails, naming it.
line_ca_stop() {
  kill "$ca_pid" 2>/dev/null || true
  local state
  for _ in $(seq 600); do
    state=$(awk '{print $3}' "/proc/$ca_pid/stat" 2>/dev/null || true)
    [[ -z $state || $state == Z ]] && break
    sleep 0.1
  done
  if [[ -n $state && $state != Z ]]; then
    echo "imprint-ca (pid $ca_pid) did not stop within 60 s of SIGTERM; killed" >&2
    kill -9 "$ca_pid" 2>/dev/null || true
    wait "$ca_pid" 2>/dev/null || true
    return 1
  fi
  wait "$ca_pid" 2>/dev/null || true
}

# line_station NAME: adds the station at the CA and enrolls it in $run/station-NAME.
line_station() {
  local name=$1
  ( umask 077; "$bin/imprint-ca" station add --config "$run/ca.toml" "$name" > "$run/$name.token" )
  "$bin/imprint-station" enroll --ca "$ca_addr" --ca-root "${agent_root:-$run/ca/root.pem}" --name "$name" \
    --token-file "$run/$name.token" --state-dir "$run/station-$name"
  rm -f "$run/$name.token"
}

# line_order ID QUOTA STATION...
line_order() {
  local id=$1 quota=$2
  shift 2
  local args=()
  for s in "$@"; do args+=(--station "$s"); done
  "$bin/imprint-ca" order create --config "$run/ca.toml" --id "$id" --product cam-v2 \
    --quota "$quota" "${args[@]}"
}

# line_agents NAME COUNT [MODE]: simulated devices in $run/NAME; addresses in $run/NAME.txt.
# With agent=imprint-agent-hostile set, MODE names how the devices misbehave (tests only).
line_agents() {
  local name=$1 count=$2
  shift 2
  rm -f "$run/$name.txt"
  "$bin/${agent:-imprint-agent}" "$@" --simulate "$count" --store-root "$run/$name" --listen 127.0.0.1:0 \
    --ca-root "${agent_root:-$run/ca/root.pem}" \
    --id-prefix "$name" --devices-file "$run/$name.txt" \
    > "$run/$name.out" 2>> "$run/$name.log" &
  line_pids+=("$!")
  for _ in $(seq 600); do [[ -s $run/$name.txt ]] && break; sleep 0.05; done
  [[ -s $run/$name.txt ]] || { echo "agents did not start:" >&2; cat "$run/$name.log" >&2; return 1; }
}

# line_provision STATION ORDER DEVICES_NAME PARALLEL [FLAG...]: runs the station; returns its
# exit code.
line_provision() {
  "$bin/imprint-station" provision --state-dir "$run/station-$1" --ca "$ca_addr" --order "$2" \
    --devices-file "$run/$3.txt" --parallel "$4" "${@:5}"
}
