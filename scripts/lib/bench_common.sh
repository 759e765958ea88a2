# Shared by scripts/bench.sh and scripts/bench-offline.sh; needs line.sh, $bin, $run and
# $results (a JSON-lines file).

# bench_prepare NAME: installs what is missing and builds, then sets bin, work (a temp dir
# removed at exit, with the processes line.sh started), results and run.
bench_prepare() {
  scripts/install-deps.sh
  scripts/build.sh >/dev/null
  bin=$PWD/build/bin
  work=$(mktemp -d "${TMPDIR:-/tmp}/imprint-bench-$1-XXXXXX")
  results=$work/results.jsonl
  run=$work/ca
  mkdir -p "$run"
  trap 'line_cleanup; rm -rf "$work"' EXIT
}

# record NAME COMMAND...: runs an imprint-bench command, keeps its JSON line tagged NAME.
record() {
  local name=$1
  shift
  local line
  line=$("$@" | tail -n 1)
  echo "{\"name\": \"$name\", \"result\": $line}" >> "$results"
  echo "  $name: $line"
}

# bench_ca: in $run, a fresh SoftHSM token and a P-256 CA with 4 sessions (on the store
# ca_store names, as for line_ca_config), serving, with station line-1 and order PO-BENCH.
bench_ca() {
  mkdir -p "$run"
  line_token >/dev/null
  line_ca_init >/dev/null
  sed -i 's/^\[hsm\]/[hsm]\nsessions = 4/' "$run/ca.toml"
  # The signing budget at its maximum: the nonce run measures how fast the responder signs,
  # not the budget that protects the token in production (default 100 a second).
  printf '[status]\nhttp_listen = "127.0.0.1:0"\nocsp_signs_per_second = 100000\n' >> "$run/ca.toml"
  [[ -z ${bench_ca_extra:-} ]] || printf '%s\n' "$bench_ca_extra" >> "$run/ca.toml"
  line_ca_start
  line_station line-1 >/dev/null
  line_order PO-BENCH 100000000 line-1 >/dev/null
}

# median "V1 V2 ...": the middle value (the upper one of an even count).
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
