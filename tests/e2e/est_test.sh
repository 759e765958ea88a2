#!/usr/bin/env bash
# EST (RFC 7030, docs/est.md) against a real imprint-ca, with clients nobody here wrote:
# strongSwan's pki (--estca, --est) and curl with openssl. The CA certificates fetched and
# matched to root.pem and the issuing CA; a station certificate enrolling a device CSR for an
# open order (quota taken, audit record, the certificate verified by openssl verify, the
# challenge header proven over gRPC by the station's report); the same call by curl. And the
# refusals, each with its status and nothing issued: no client certificate, a certificate of
# another CA, a closed order, an order the station does not serve, a body over the cap,
# malformed base64, a CSR that is not one, a device certificate where a station's is asked.
# Usage: est_test.sh BIN_DIR
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
run=$(mktemp -d "${TMPDIR:-/tmp}/imprint-est-XXXXXX")
source "$here/../../scripts/lib/line.sh"
source "$here/e2e_lib.sh"
trap 'line_show_logs $?; line_cleanup; rm -rf "$run"' EXIT
ca() { "$bin/imprint-ca" "$@" --config "$run/ca.toml"; }

line_token >/dev/null
line_ca_config
printf '[est]\nlisten = "127.0.0.1:0"\nreenroll_per_hour = 8\n' >> "$run/ca.toml"
printf '[status]\nhttp_listen = "127.0.0.1:0"\n' >> "$run/ca.toml"
"$bin/imprint-ca" init --config "$run/ca.toml" >/dev/null 2>&1
line_ca_start
est=$(sed -n 's|^est on https://||p' "$run/ca.out")
[[ -n $est ]] || fail "the CA did not print its EST address"
url=https://$est
line_station line-1 >/dev/null
line_station line-2 >/dev/null
ca order create --id PO-EST --product sensor --quota 5 --station line-1 >/dev/null
st=$run/station-line-1
root=$run/ca/root.pem

# The CA certificates, by pki --estca: the root and the issuing CA, nothing else.
mkdir -p "$run/estca"
pki --estca --url "$url" --cacert "$root" --caout "$run/estca/ca" --outform pem --force \
  > "$run/estca.log" 2>&1 || { cat "$run/estca.log" >&2; fail "pki --estca"; }
for f in "$run"/estca/ca*; do openssl x509 -in "$f" -noout -fingerprint -sha256; done | sort > "$run/got.txt"
{ openssl x509 -in "$root" -noout -fingerprint -sha256
  openssl x509 -in "$run/ca/chain.pem" -noout -fingerprint -sha256; } | sort > "$run/want.txt"
diff -q "$run/got.txt" "$run/want.txt" >/dev/null ||
  { cat "$run/got.txt" "$run/want.txt" >&2; fail "pki --estca: not the root and the issuing CA"; }

# csr NAME: a P-256 key and a CSR with CN=NAME, in DER and base64.
csr() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$run/$1.key" \
    -subj "/CN=$1" -outform DER -out "$run/$1.csr" 2>/dev/null
  base64 -w0 "$run/$1.csr" > "$run/$1.b64"
}
# post OP BODY_FILE [curl args]: the HTTP status; the body in $run/answer, headers in $run/headers.
post() {
  local op=$1 body=$2
  shift 2
  curl -s -o "$run/answer" -D "$run/headers" -w '%{http_code}' --cacert "$root" \
    -H 'Content-Type: application/pkcs10' --data-binary @"$body" "$@" "$url/.well-known/est/$op"
}

# A station enrolls a device with pki --est (which posts to /simplereenroll with a client cert).
csr dev-pki
pki --est --url "$url" --in "$run/dev-pki.csr" --cacert "$root" --cert "$st/station-cert.pem" \
  --key "$st/station-key.pem" --outform pem > "$run/dev-pki.pem" 2> "$run/est.log" ||
  { cat "$run/est.log" >&2; fail "pki --est as a station"; }
openssl verify -CAfile "$root" -untrusted "$run/ca/chain.pem" "$run/dev-pki.pem" >/dev/null ||
  fail "openssl verify: the certificate pki --est received"
openssl x509 -in "$run/dev-pki.pem" -noout -subject | grep 'CN *= *dev-pki' > /dev/null || fail "subject"
expect_eq "$(order_field PO-EST issued)" 1 "issued after pki --est"
ca audit export | grep '"event":"certificate.issued"' | grep 'dev-pki' > /dev/null || fail "no audit record for dev-pki"

# The same with curl and openssl; the answer is unwrapped base64 of a certs-only PKCS#7.
csr dev-curl
status=$(post simpleenroll "$run/dev-curl.b64" --cert "$st/station-cert.pem" --key "$st/station-key.pem")
expect_eq "$status" 200 "curl simpleenroll"
grep -qi '^content-type: application/pkcs7-mime; smime-type=certs-only' "$run/headers" || fail "content type"
[[ $(wc -l < "$run/answer") -le 1 ]] || fail "the answer's base64 is wrapped"
base64 -d "$run/answer" | openssl pkcs7 -inform DER -print_certs > "$run/dev-curl.pem" || fail "not PKCS#7"
openssl verify -CAfile "$root" -untrusted "$run/ca/chain.pem" "$run/dev-curl.pem" >/dev/null ||
  fail "openssl verify: the certificate curl received"
grep -qi '^x-imprint-challenge: ' "$run/headers" || fail "no challenge header"
# A CSR wrapped at 64 columns (RFC 2045) is read the same.
csr dev-wrapped
base64 -w64 "$run/dev-wrapped.csr" > "$run/dev-wrapped.b64"
expect_eq "$(post simpleenroll "$run/dev-wrapped.b64" --cert "$st/station-cert.pem" --key "$st/station-key.pem")" 200 "wrapped base64"
expect_eq "$(order_field PO-EST issued)" 3 "issued"

# Refusals: nothing more is issued.
csr dev-refused
expect_eq "$(post simpleenroll "$run/dev-refused.b64")" 401 "no client certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$run/rogue.key" \
  -subj "/CN=line-1" -days 1 -out "$run/rogue.pem" 2>/dev/null
expect_eq "$(post simpleenroll "$run/dev-refused.b64" --cert "$run/rogue.pem" --key "$run/rogue.key")" 401 "another CA's certificate"
# A device certificate is a re-enrollment (below): this device never proved its key.
/usr/bin/python3 "$here/renewal_csr.py" "$run/dev-pki.pem" "$run/dev-pki.key" "$run/dev-pki-renew.der"
base64 -w0 "$run/dev-pki-renew.der" > "$run/dev-pki-renew.b64"
expect_eq "$(post simplereenroll "$run/dev-pki-renew.b64" --cert "$run/dev-pki.pem" --key "$run/dev-pki.key")" 409 "an unverified device"
grep -q 'not verified' "$run/answer" || fail "the unverified device's refusal: $(cat "$run/answer")"
expect_eq "$(post PO-OTHER/simpleenroll "$run/dev-refused.b64" --cert "$st/station-cert.pem" --key "$st/station-key.pem")" 404 "an unknown order"
head -c 20000 /dev/zero | base64 -w0 > "$run/big.b64"
expect_eq "$(post simpleenroll "$run/big.b64" --cert "$st/station-cert.pem" --key "$st/station-key.pem")" 413 "a body over the cap"
printf 'MII*not base64!' > "$run/junk.b64"
expect_eq "$(post simpleenroll "$run/junk.b64" --cert "$st/station-cert.pem" --key "$st/station-key.pem")" 400 "malformed base64"
printf 'aGVsbG8gd29ybGQ=' > "$run/notcsr.b64"
expect_eq "$(post simpleenroll "$run/notcsr.b64" --cert "$st/station-cert.pem" --key "$st/station-key.pem")" 400 "not a CSR"
# line-2 serves no order; then, with two open orders, line-1 must name one.
expect_eq "$(post simpleenroll "$run/dev-refused.b64" --cert "$run/station-line-2/station-cert.pem" --key "$run/station-line-2/station-key.pem")" 409 "a station without an order"
ca order create --id PO-EST-2 --product sensor --quota 5 --station line-1 >/dev/null
expect_eq "$(post simpleenroll "$run/dev-refused.b64" --cert "$st/station-cert.pem" --key "$st/station-key.pem")" 409 "two open orders"
grep -q 'name one as the label' "$run/answer" || fail "the ambiguity's message: $(cat "$run/answer")"
ca order close --id PO-EST-2 >/dev/null
ca order close --id PO-EST >/dev/null
expect_eq "$(post PO-EST/simpleenroll "$run/dev-refused.b64" --cert "$st/station-cert.pem" --key "$st/station-key.pem")" 409 "a closed order"
expect_eq "$(order_field PO-EST issued)" 3 "issued after the refusals"
grep -q 'internal' "$run/answer" && fail "an internal message left the CA"

# Field renewal: a device provisioned on the line re-enrolls with its factory certificate.
ca order create --id PO-FIELD --product gateway --quota 2 --station line-1 >/dev/null
line_agents gw 1 >/dev/null
"$bin/imprint-station" provision --state-dir "$st" --ca "$ca_addr" --order PO-FIELD \
  --devices-file "$run/gw.txt" > "$run/line.out" 2>&1 || { cat "$run/line.out" >&2; fail "the line"; }
gw=$run/gw/gw-00001
py=/usr/bin/python3
# reenroll NAME CERT KEY [curl args]: posts NAME.der as the device with CERT and KEY.
reenroll() {
  local name=$1 cert=$2 key=$3
  shift 3
  base64 -w0 "$run/$name.der" > "$run/$name.b64"
  post simplereenroll "$run/$name.b64" --cert "$cert" --key "$key" "$@"
}
ocsp() {  # ocsp CERT: the status word openssl ocsp reads, the answer verified against the root
  local out
  out=$(openssl ocsp -issuer "$run/ca/chain.pem" -cert "$1" -url "http://$ca_status_addr/ocsp" \
    -CAfile "$root" 2>&1) || fail "openssl ocsp: $out"
  grep -q "Response verify OK" <<< "$out" || fail "OCSP response not verified: $out"
  sed -n "s|^$1: ||p" <<< "$out"
}
# The same key renewed, by pki --est with the factory certificate and key.
$py "$here/renewal_csr.py" "$gw/certificate.pem" "$gw/device-key.pem" "$run/renew.der"
pki --est --url "$url" --in "$run/renew.der" --cacert "$root" --cert "$gw/certificate.pem" \
  --key "$gw/device-key.pem" --outform pem > "$run/op1.pem" 2> "$run/est-renew.log" ||
  { cat "$run/est-renew.log" >&2; fail "pki --est as a device"; }
openssl verify -CAfile "$root" -untrusted "$run/ca/chain.pem" "$run/op1.pem" >/dev/null ||
  fail "openssl verify: the renewed certificate"
expect_eq "$(openssl x509 -in "$run/op1.pem" -noout -pubkey)" \
  "$(openssl x509 -in "$gw/certificate.pem" -noout -pubkey)" "the renewed certificate's key"
expect_eq "$(ocsp "$run/op1.pem")" good "OCSP for the renewed certificate"
# A new key (rekey), again with the factory certificate.
cp "$gw/device-key.pem" "$run/factory-key.pem"
$py "$here/renewal_csr.py" "$gw/certificate.pem" "$run/new.key" "$run/rekey.der" --new-key
expect_eq "$(reenroll rekey "$gw/certificate.pem" "$gw/device-key.pem")" 200 "rekey"
base64 -d "$run/answer" | openssl pkcs7 -inform DER -print_certs > "$run/op2.pem"
expect_eq "$(openssl x509 -in "$run/op2.pem" -noout -pubkey)" "$(openssl pkey -in "$run/new.key" -pubout)" \
  "the rekeyed certificate's key"
ca device show --id gw-00001 > "$run/show.out"
expect_eq "$(grep -c '^operational .* revoked no$' "$run/show.out")" 2 "operational certificates in device show"
ca audit export | grep '"event":"certificate.renewed"' | grep 'rekey' > /dev/null || fail "no rekey audit record"
# Refused: an operational certificate before its renewal window; another subject; no match.
$py "$here/renewal_csr.py" "$run/op2.pem" "$run/new.key" "$run/early.der"
expect_eq "$(reenroll early "$run/op2.pem" "$run/new.key")" 409 "renewal before the window"
grep -q 'opens at' "$run/answer" || fail "the window's message: $(cat "$run/answer")"
$py "$here/renewal_csr.py" "$gw/certificate.pem" "$gw/device-key.pem" "$run/other.der" --subject-cn gw-99999
expect_eq "$(reenroll other "$gw/certificate.pem" "$gw/device-key.pem")" 400 "another subject"
grep -q 'subject differs' "$run/answer" || fail "the subject's message: $(cat "$run/answer")"
# The device revoked: its operational certificates with it, in OCSP and the CRL; no renewal.
ca revoke device --id gw-00001 --reason key-compromise >/dev/null
expect_eq "$(ocsp "$run/op1.pem")" revoked "OCSP for an operational certificate of a revoked device"
ca crl issue >/dev/null
serial=$(openssl x509 -in "$run/op2.pem" -noout -serial | cut -d= -f2)
openssl crl -inform DER -in "$run/ca/crl/issuing.crl" -noout -text | grep -i "Serial Number: $serial" > /dev/null ||
  fail "the CRL does not list the operational certificate $serial"
expect_eq "$(reenroll renew "$gw/certificate.pem" "$gw/device-key.pem")" 403 "a revoked device"
grep -q 'device is revoked' "$run/answer" || fail "the revoked device's message: $(cat "$run/answer")"
# Per device, at most reenroll_per_hour re-enrollments (8, counted above with the refusals).
for _ in 1 2 3 4; do last=$(reenroll renew "$gw/certificate.pem" "$gw/device-key.pem"); done
expect_eq "$last" 429 "the per-device rate limit"
echo "est: ok"
