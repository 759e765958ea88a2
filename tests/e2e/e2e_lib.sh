# Shared by the end-to-end scripts (line_test.sh, nodes_test.sh, offline_test.sh): checks and
# CA nodes. Source after scripts/lib/line.sh; needs $bin and $run.

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"; }
order_field() { "$bin/imprint-ca" order show --config "$run/ca.toml" --id "$1" | sed -n "s/^$2 //p"; }
# committed DEVICES: how many devices under $run/DEVICES hold a committed certificate.
committed() { cat "$run"/$1/*/state.json 2>/dev/null | grep -c COMMITTED || true; }

# node_start N: serves CA node N (of $run/ca.toml) on its own free ports; sets node_addr[N],
# node_status[N] (its status listener, when the config has one) and node_pid[N].
declare -A node_addr node_pid node_status
node_start() {
  local n=$1
  : > "$run/node$n.out"
  "$bin/imprint-ca" serve --config "$run/ca.toml" --listen 127.0.0.1:0 > "$run/node$n.out" \
    2>> "$run/node$n.log" &
  node_pid[$n]=$!
  line_pids+=("$!")
  line_wait_listening "$run/node$n.out" "${node_pid[$n]}"
  node_addr[$n]=$(sed -n 's/^listening on //p' "$run/node$n.out" | head -n 1)
  node_status[$n]=$(sed -n 's|^status on http://||p' "$run/node$n.out" | head -n 1)
  [[ -n ${node_addr[$n]} ]] || { cat "$run/node$n.log" >&2; fail "node $n did not start"; }
}

node_kill() {
  kill -9 "${node_pid[$1]}" 2>/dev/null || true
  wait "${node_pid[$1]}" 2>/dev/null || true
}
