# ocsp_h2load URL ISSUER_PEM SERIAL_HEX CA_PID REQUESTS CLIENTS: the CA's OCSP responder under
# h2load (Debian nghttp2-client), a lean HTTP/1.1 load generator written in C, so the figure
# describes the responder rather than the client (issue 32). One request about SERIAL_HEX
# without a nonce (RFC 5019: the cached answer), POSTed REQUESTS times over CLIENTS kept-alive
# connections. Prints one JSON line: responses_per_s, ca_cpu_us_per_response,
# client_cpu_us_per_response (h2load's own user + system time). Fails unless every request got
# a 2xx answer, and unless the answer (checked once with openssl) says good.
ocsp_h2load() {
  local url=$1 issuer=$2 serial=$3 pid=$4 n=$5 c=$6
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/imprint-h2load-XXXXXX")
  openssl ocsp -issuer "$issuer" -serial "0x$serial" -no_nonce -reqout "$dir/req.der" \
    > /dev/null 2>&1 || { echo "ocsp_h2load: cannot make the request" >&2; rm -rf "$dir"; return 1; }
  # An OCSP error is a 200 too: the answer h2load will get is checked once, by openssl.
  curl -sf --data-binary "@$dir/req.der" -H 'Content-Type: application/ocsp-request' \
    "$url/ocsp" -o "$dir/resp.der" &&
    openssl ocsp -respin "$dir/resp.der" -resp_text -noverify 2> /dev/null |
    grep -q "Cert Status: good" ||
    { echo "ocsp_h2load: the responder does not answer good for $serial" >&2; rm -rf "$dir"; return 1; }
  local before after
  before=$(_cpu_ticks "$pid")
  local TIMEFORMAT='%U %S'
  { time h2load --h1 -n "$n" -c "$c" -d "$dir/req.der" \
      -H 'Content-Type: application/ocsp-request' "$url/ocsp" > "$dir/out" ; } 2> "$dir/time"
  after=$(_cpu_ticks "$pid")
  local rate ok
  rate=$(sed -n 's/^finished in [0-9.]*m\?s, \([0-9.]*\) req\/s.*/\1/p' "$dir/out")
  ok=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' "$dir/out")
  if [[ -z $rate || $ok != "$n" ]]; then
    echo "ocsp_h2load: $ok of $n answered 2xx" >&2
    cat "$dir/out" >&2
    rm -rf "$dir"
    return 1
  fi
  local hz
  hz=$(getconf CLK_TCK)
  awk -v rate="$rate" -v n="$n" -v ticks=$((after - before)) -v hz="$hz" \
    -v own="$(cat "$dir/time")" 'BEGIN {
      split(own, t, " ");
      printf "{\"responses_per_s\": %s, \"ca_cpu_us_per_response\": %.1f, \"client_cpu_us_per_response\": %.1f}\n",
        rate, ticks / hz * 1e6 / n, (t[1] + t[2]) * 1e6 / n }'
  rm -rf "$dir"
}

# _cpu_ticks PID: the process's user + system time in clock ticks (/proc/PID/stat fields 14 and
# 15, counted after the command name, which may hold spaces).
_cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat")
  stat=${stat##*) }
  awk '{print $12 + $13}' <<<"$stat"
}
