# Shared by scripts/bench.sh and scripts/bench-offline.sh: the offline measurement
# (docs/performance.md). Needs line.sh's $run, $bin, $ca_addr (a serving CA with station line-1
# and order PO-BENCH) and a `record NAME COMMAND...` function that keeps a JSON result line.
#
# offline_bench RUNS DEVICES: gives station line-1 a token of its own and an allowance for
# RUNS x DEVICES, alternates RUNS rounds of the P=16 line online (line_16_ab) and offline
# (line_16_offline) so the ratio sees the same machine, then times reconcile of everything the
# offline rounds issued (reconcile) and a reconcile with nothing new (reconcile_noop: the
# command's start-up, sealing and the CA's progress answer).
offline_bench() {
  local runs=$1 devices=$2
  ( umask 077; head -c 18 /dev/urandom | base64 > "$run/station.pin" )
  "$bin/imprint-test-token" --label station-line-1 --so-pin-file "$run/so.pin" \
    --pin-file "$run/station.pin" >/dev/null
  "$bin/imprint-station" token set --state-dir "$run/station-line-1" \
    --module /usr/lib/softhsm/libsofthsm2.so --token-uri pkcs11:token=station-line-1 \
    --pin-file "$run/station.pin" >/dev/null
  "$bin/imprint-ca" allowance grant --config "$run/ca.toml" --order PO-BENCH --station line-1 \
    --count "$((devices * runs))" --valid-for 1d >/dev/null
  "$bin/imprint-station" allowance fetch --state-dir "$run/station-line-1" --ca "$ca_addr" \
    --order PO-BENCH >/dev/null
  for _ in $(seq "$runs"); do
    record line_16_ab "$bin/imprint-bench" line --ca "$ca_addr" \
      --station-dir "$run/station-line-1" --order PO-BENCH --devices "$devices" --parallel 16
    record line_16_offline "$bin/imprint-bench" line --ca "$ca_addr" --offline \
      --station-dir "$run/station-line-1" --order PO-BENCH --devices "$devices" --parallel 16
  done
  local name began ended
  for name in reconcile reconcile_noop; do
    began=$(date +%s.%N)
    "$bin/imprint-station" reconcile --state-dir "$run/station-line-1" --ca "$ca_addr" \
      > "$run/$name.out"
    ended=$(date +%s.%N)
    # What this reconcile recorded, as it says: a rate over devices recorded elsewhere (an
    # online round's own reconcile) would flatter it.
    local recorded
    recorded=$(sed -n 's/.*logged, \([0-9]*\) recorded now.*/\1/p' "$run/$name.out")
    local expected=$((devices * runs))
    [[ $name == reconcile ]] || expected=0
    if [[ $recorded != "$expected" ]]; then
      echo "offline bench: $name recorded '$recorded', not $expected: $(cat "$run/$name.out")" >&2
      return 1
    fi
    echo "{\"name\": \"$name\", \"result\": {\"devices\": $recorded, \"seconds\": $(awk "BEGIN {print $ended - $began}")}}" >> "$results"
    echo "  $name: $recorded devices in $(awk "BEGIN {print $ended - $began}") s"
  done
}
