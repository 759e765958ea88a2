#!/usr/bin/env bash
# imprint on PKCS#11 modules other than SoftHSM, with real processes on loopback:
#   opencryptoki  the CA on opencryptoki's soft token (RSA only): a missing slot daemon and an EC
#                 key type are refused with what to do and leave the token empty; an RSA-3072 CA
#                 provisions a line whose certificates openssl and certtool verify.
#   tpm2          devices keep their keys in a TPM (swtpm) through tpm2-pkcs11 and tpm2-abrmd,
#                 two agent processes on one TPM, each with its own tpm2-pkcs11 store; every key
#                 sensitive and never extractable.
# Usage: module_test.sh BIN_DIR CASE. Exit 77 (skipped) only when opencryptoki's soft token is
# someone else's (scripts/lib/modules.sh).
set -euo pipefail
bin=$1
case_name=$2
here=$(cd "$(dirname "$0")" && pwd)
run=$(mktemp -d "${TMPDIR:-/tmp}/imprint-module-XXXXXX")
chmod 700 "$run"
source "$here/../../scripts/lib/line.sh"
source "$here/../../scripts/lib/modules.sh"
trap 'line_show_logs $?; line_cleanup; ock_cleanup; rm -rf "$run"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"; }

# Objects a logged-in user sees in token $2 of module $1 (GnuTLS p11tool; PIN from file $3, passed
# in the environment).
token_objects() {
  GNUTLS_PIN=$(cat "$3") p11tool --provider "$1" --login --list-all "pkcs11:token=$2" 2>/dev/null |
    grep -c '^Object ' || true
}

# Every certificate the devices in $run/$1 hold verifies with openssl and with certtool.
verify_device_certificates() {
  local n=0 store
  for store in "$run/$1"/*/; do
    openssl verify -x509_strict -purpose sslclient -CAfile "$run/ca/root.pem" \
      -untrusted "$store/chain.pem" "$store/certificate.pem" >/dev/null ||
      fail "certificate of $store does not verify (openssl)"
    certtool --verify --load-ca-certificate "$run/ca/root.pem" \
      --infile <(cat "$store/certificate.pem" "$store/chain.pem") >/dev/null 2>&1 ||
      fail "certificate of $store does not verify (certtool)"
    n=$((n + 1))
  done
  echo "$n"
}

case "$case_name" in
opencryptoki)
  # opencryptoki 3.8 leaks in its token library and dlcloses that library in C_Finalize, so
  # LeakSanitizer (in the ASan run) reports frames it cannot name or suppress. Leak checking
  # stays on for the same binaries in every SoftHSM test.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
  rc=0
  ock_token > /dev/null || rc=$?
  (( rc == 77 )) && exit 77
  (( rc == 0 )) || fail "opencryptoki token set-up failed"
  ca_module=$ock_module ca_token_uri="pkcs11:token=$ock_label" ca_pin_file=$run/ock.pin

  # Without the slot daemon: the module and the fix are named, and nothing is written.
  if (( ock_started )); then
    ock_stop
    ca_key_type=RSA-3072 line_ca_config
    rc=0
    "$bin/imprint-ca" init --config "$run/ca.toml" > "$run/no-daemon.out" 2>&1 || rc=$?
    (( rc != 0 )) || fail "init without pkcsslotd succeeded"
    grep -q "C_Initialize: CKR_.* (module $ock_module). Hint: .*start pkcsslotd" "$run/no-daemon.out" ||
      fail "no-daemon message: $(cat "$run/no-daemon.out")"
    [[ ! -e $run/ca ]] || fail "init without pkcsslotd left $run/ca"
    ock_start
  fi

  # An EC key type: refused before any key exists, naming what is missing.
  ca_key_type=P-256 line_ca_config
  rc=0
  "$bin/imprint-ca" init --config "$run/ca.toml" > "$run/ec.out" 2>&1 || rc=$?
  (( rc != 0 )) || fail "a P-256 CA on opencryptoki's soft token was initialised"
  grep -q "CKM_EC_KEY_PAIR_GEN (for imprint-root P-256, imprint-issuing P-256, imprint-audit P-256): not offered" \
    "$run/ec.out" || fail "EC refusal: $(cat "$run/ec.out")"
  grep -q "No key was made" "$run/ec.out" || fail "EC refusal does not say the token is untouched"
  expect_eq "$(token_objects "$ock_module" "$ock_label" "$run/ock.pin")" 0 "objects after refused init"
  [[ ! -e $run/ca ]] || fail "refused init left $run/ca"

  # RSA-3072: the whole CA, audit key included, on the soft token.
  ca_key_type=RSA-3072 line_ca_init > "$run/init.out" || fail "RSA-3072 init: $(cat "$run/init.out")"
  openssl x509 -in "$run/ca/chain.pem" -noout -text | grep "Public-Key: (3072 bit)" > /dev/null ||
    fail "issuing CA key is not RSA-3072"
  openssl pkey -pubin -in "$run/ca/audit-key.pem" -noout -text | grep "Public-Key: (3072 bit)" > /dev/null ||
    fail "audit key is not RSA-3072"
  line_ca_start
  line_station line-1 > /dev/null
  line_order PO-1 20 line-1 > /dev/null
  line_agents dev 20
  line_provision line-1 PO-1 dev 4 > "$run/provision.out" ||
    fail "provision: $(cat "$run/provision.out")"
  grep -q "summary: 20 provisioned, 0 already provisioned, 0 failed" "$run/provision.out" ||
    fail "summary: $(cat "$run/provision.out")"
  expect_eq "$(verify_device_certificates dev)" 20 "verified device certificates"
  line_ca_stop
  "$bin/imprint-ca" audit verify --config "$run/ca.toml" | grep "audit log OK" > /dev/null || fail "audit verify"
  # The RSA-signed audit log also verifies with Python's cryptography.
  "$bin/imprint-ca" audit export --config "$run/ca.toml" --out "$run/audit.jsonl" > /dev/null
  /usr/bin/python3 "$here/../ca/audit/verify_audit_export.py" "$run/audit.jsonl" "$run/ca/audit-key.pem" ||
    fail "the exported audit log does not verify"
  ;;
tpm2)
  tpm_start
  # One store per agent process: tpm2-pkcs11 1.9 opens its SQLite store without a busy timeout,
  # so two processes adding keys to one store at the same moment fail with CKR_GENERAL_ERROR
  # ("Failed to add public object to db"). A device has its own TPM and store; the two
  # processes stand for two fixtures sharing one TPM, not one store.
  for group in tpma tpmb; do  # not "agent": line_agents reads that name
    TPM2_PKCS11_STORE=$run/tpm2-store-$group tpm_token devices > /dev/null
  done
  line_token > /dev/null
  line_ca_init > /dev/null
  line_ca_start
  line_station line-1 > /dev/null
  line_order PO-1 16 line-1 > /dev/null
  # Two agent processes on one TPM, as two fixtures on one test PC would be.
  tpm_agents() {
    TPM2_PKCS11_STORE=$run/tpm2-store-$1 line_agents "$1" 8 --key-backend pkcs11 \
      --pkcs11-module "$tpm_module" --token-uri pkcs11:token=devices --pin-file "$run/tpm.pin"
  }
  # What a logged-in user of group $1's token sees (GnuTLS p11tool), with p11tool arguments $2...
  tpm_p11tool() {
    local group=$1
    shift
    TPM2_PKCS11_STORE=$run/tpm2-store-$group GNUTLS_PIN=$(cat "$run/tpm.pin") \
      p11tool --provider "$tpm_module" --login "$@" 2>/dev/null
  }
  tpm_agents tpma
  tpma_pid=${line_pids[-1]}
  tpm_agents tpmb
  cat "$run/tpma.txt" "$run/tpmb.txt" > "$run/all.txt"
  line_provision line-1 PO-1 all 4 > "$run/provision.out" ||
    fail "provision: $(cat "$run/provision.out")"
  grep -q "summary: 16 provisioned, 0 already provisioned, 0 failed" "$run/provision.out" ||
    fail "summary: $(cat "$run/provision.out")"
  expect_eq "$(( $(verify_device_certificates tpma) + $(verify_device_certificates tpmb) ))" 16 \
    "verified device certificates"
  for store in "$run"/tpm?/*/; do
    [[ ! -e $store/device-key.pem ]] || fail "$store holds a key file"
  done

  # Each device key is in the TPM, sensitive and never extractable (read by GnuTLS p11tool).
  for group in tpma tpmb; do
    tpm_p11tool "$group" --list-privkeys pkcs11:token=devices
  done > "$run/keys.txt"
  expect_eq "$(grep -c 'Label: device:tpm' "$run/keys.txt")" 16 "device keys in the TPM"
  expect_eq "$(grep 'Flags:' "$run/keys.txt" | grep 'CKA_SENSITIVE' | grep -c 'CKA_NEVER_EXTRACTABLE')" 16 \
    "keys sensitive and never extractable"
  ! grep -q 'CKA_EXTRACTABLE' "$run/keys.txt" || fail "an extractable key: $(cat "$run/keys.txt")"
  # Each certificate is for the key its device holds in the TPM.
  for store in "$run"/tpma/*/; do
    id=$(basename "$store")
    spki=$(openssl x509 -in "$store/certificate.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)
    tpm_spki=$(tpm_p11tool tpma --export-pubkey "pkcs11:token=devices;object=device:$id;type=public" |
      openssl pkey -pubin -outform DER | sha256sum)
    expect_eq "$tpm_spki" "$spki" "public key of $id"
  done

  # A restarted agent finds its keys in the TPM: the devices are already provisioned.
  kill "$tpma_pid"
  wait "$tpma_pid" 2>/dev/null || true
  tpm_agents tpma
  cat "$run/tpma.txt" "$run/tpmb.txt" > "$run/all.txt"
  line_provision line-1 PO-1 all 4 > "$run/again.out" || fail "second run: $(cat "$run/again.out")"
  grep -q "summary: 0 provisioned, 16 already provisioned, 0 failed" "$run/again.out" ||
    fail "second run: $(cat "$run/again.out")"
  ;;
*)
  fail "unknown case $case_name"
  ;;
esac
echo "PASS: $case_name"
