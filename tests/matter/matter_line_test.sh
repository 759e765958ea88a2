#!/usr/bin/env bash
# A Matter line end to end through the real binaries (docs/matter.md): a test PAA and a PAI in
# SoftHSM, a CD made by matter.js, a Matter order for VID FFF1 / PID 8000, 50 devices with keys
# made on the device at P=16; then checks by tools nobody here wrote:
# - matter.js (check_devices.mjs): every DAC, PAI and a fresh attestation (nonce and challenge
#   chosen here) pass DeviceAttestationValidator; every verifier equals Spake2p.computeW0L of its
#   passcode; every QR payload and manual code decode to that device's passcode, discriminator,
#   VID and PID;
# - python3-cryptography (check_profile.py): the profile matter.js does not check (critical
#   basicConstraints and keyUsage exactly, SKID/AKID 20 bytes, DER <= 600) on every DAC and the
#   PAI; openssl verify -x509_strict -attime <DAC notBefore> against the PAA;
# and the refusals, each with its message and nothing recorded: a CD for another vendor, a PID
# not in the CD, a DAC that would pass 600 bytes, a PAI certificate with the wrong keyUsage or
# pathLen, a device key that is not P-256 (quota untouched), a device whose attestation
# signature is wrong (failed, with its reason).
# Usage: matter_line_test.sh BIN_DIR MODULES_DIR
set -euo pipefail
bin=$1
modules=$2
here=$(cd "$(dirname "$0")" && pwd)
run=$(mktemp -d "${TMPDIR:-/tmp}/imprint-matter-XXXXXX")
source "$here/../../scripts/lib/line.sh"
source "$here/../../scripts/lib/console_node.sh"
source "$here/../e2e/e2e_lib.sh"
trap 'line_show_logs $?; line_cleanup; rm -rf "$run"' EXIT

matter_node "$modules"
cp "$here/check_devices.mjs" "$here/make_cd.mjs" "$here/check_labels.mjs" "$modules/"
labels_node "$modules/labels"
cp "$here/../labels/render.mjs" "$modules/labels/"
ca() { "$bin/imprint-ca" "$@" --config "$run/ca.toml"; }
# expect_refused WHAT TEXT CMD...: CMD fails and its stderr names TEXT.
expect_refused() {
  local what=$1 text=$2
  shift 2
  if "$@" > "$run/refused.out" 2> "$run/refused.err"; then fail "$what: accepted"; fi
  grep -q -- "$text" "$run/refused.err" || fail "$what: refused without '$text': $(cat "$run/refused.err")"
}

line_token >/dev/null
line_ca_init >/dev/null 2>&1

# The PAI ceremony: the key in the token, its CSR; a PAI certificate from an outside PAA with
# the wrong pathLen, then the wrong keyUsage, refused; the test PAA signs and imports it.
ca matter pai create --label acme-bulbs --vid FFF1 --pid 8000 --out "$run/pai.csr" >/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$run/outside-paa.key" 2>/dev/null
openssl req -x509 -new -key "$run/outside-paa.key" -subj "/CN=outside PAA" -days 3650 \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:1" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$run/outside-paa.pem" 2>/dev/null
outside_pai() {  # outside_pai EXTENSIONS OUT
  printf '%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' "$1" > "$run/ext.cnf"
  openssl x509 -req -in "$run/pai.csr" -CA "$run/outside-paa.pem" -CAkey "$run/outside-paa.key" \
    -days 3650 -extfile "$run/ext.cnf" -out "$2" 2>/dev/null
}
outside_pai $'basicConstraints=critical,CA:TRUE,pathlen:1\nkeyUsage=critical,keyCertSign,cRLSign' \
  "$run/pai-pathlen.pem"
expect_refused "PAI with pathLen 1" "pathLen must be 0" \
  ca matter pai import --label acme-bulbs --cert "$run/pai-pathlen.pem" --paa "$run/outside-paa.pem"
outside_pai $'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature' \
  "$run/pai-usage.pem"
expect_refused "PAI without keyCertSign" "keyUsage must be keyCertSign" \
  ca matter pai import --label acme-bulbs --cert "$run/pai-usage.pem" --paa "$run/outside-paa.pem"
# Output to a file, then grep: `cmd | grep -q` under pipefail fails when grep stops reading
# before cmd is done writing (SIGPIPE), as it once did under ASan.
ca matter paa create-test --vid FFF1 --out "$run/paa.pem" > "$run/paa.out"
grep -q "PAI acme-bulbs signed" "$run/paa.out" || fail "the test PAA did not sign the waiting PAI"
# A second PAI for any product of the vendor, for the CD's product list check, and a third
# whose long name (the DACs' issuer) with a long organization would make DACs too big.
long_label=acme-$(printf 'x%.0s' $(seq 58))
ca matter pai create --label acme-any --vid FFF1 --out "$run/pai-any.csr" >/dev/null
ca matter pai create --label "$long_label" --vid FFF1 --pid 8000 --out "$run/pai-long.csr" >/dev/null
ca matter paa create-test --vid FFF1 >/dev/null

# The CDs: the product's, and one for another vendor, made and signed by matter.js.
node "$modules/make_cd.mjs" FFF1 8000 "$run/cd.der" "$run/cd-signer.pem"
node "$modules/make_cd.mjs" FFF2 8000 "$run/cd-fff2.der" "$run/cd-signer.pem"

line_ca_start
line_station line-1 >/dev/null
matter_order() {  # matter_order ID PAI PID CD [more order create options]
  local id=$1 pai=$2 pid=$3 cd=$4
  shift 4
  ca order create --id "$id" --product bulb --quota 60 --station line-1 --matter --pai "$pai" \
    --pid "$pid" --cd "$cd" --cd-signer "$run/cd-signer.pem" "$@"
}
expect_refused "CD for another vendor" "vendor_id is FFF2, not the PAI's FFF1" \
  matter_order PO-BAD1 acme-bulbs 8000 "$run/cd-fff2.der"
expect_refused "PID outside the CD" "product_id_array does not hold 8001" \
  matter_order PO-BAD2 acme-any 8001 "$run/cd.der"
sed 's/^organization = .*/organization = "'"$(printf 'A%.0s' $(seq 64))"'"/' "$run/ca.toml" \
  > "$run/ca-long-org.toml"
expect_refused "DAC over 600 bytes" "more than 600" "$bin/imprint-ca" order create \
  --config "$run/ca-long-org.toml" --id PO-BAD3 --product bulb --quota 60 --station line-1 \
  --matter --pai "$long_label" --pid 8000 --cd "$run/cd.der" --cd-signer "$run/cd-signer.pem"
for bad in PO-BAD1 PO-BAD2 PO-BAD3; do
  if ca order show --id "$bad" >/dev/null 2>&1; then fail "refused order $bad was recorded"; fi
done
matter_order PO-M acme-bulbs 8000 "$run/cd.der" >/dev/null

# The line: 50 devices at P=16, keys made on the devices; they trust the PAA.
agent_root=$run/paa.pem line_agents bulb 50
mkdir -p "$run/printed"
"$bin/imprint-station" provision --state-dir "$run/station-line-1" --ca "$ca_addr" --order PO-M \
  --devices-file "$run/bulb.txt" --parallel 16 --printer "file:$run/printed" \
  --label-template "$here/../../templates/labels/matter.zpl" > "$run/provision.out" 2>&1 ||
  { cat "$run/provision.out" >&2; fail "the Matter line did not provision every device"; }
grep -q "labels: 50 printed, 0 waiting, 0 in doubt" "$run/provision.out" ||
  fail "Matter labels: $(cat "$run/provision.out")"
expect_eq "$(committed bulb)" 50 "committed Matter devices"
expect_eq "$(order_field PO-M verified)" 50 "verified at the CA"

# Hostile devices: a P-384 key (refused before anything is recorded) and a wrong attestation
# signature (failed at the CA, with its reason).
issued_before=$(order_field PO-M issued)
agent=imprint-agent-hostile agent_root=$run/paa.pem line_agents p384 1 p384-key
agent=imprint-agent-hostile agent_root=$run/paa.pem line_agents forger 1 wrong-attestation
for hostile in p384 forger; do
  if "$bin/imprint-station" provision --state-dir "$run/station-line-1" --ca "$ca_addr" \
      --order PO-M --devices-file "$run/$hostile.txt" > "$run/$hostile.out" 2>&1; then
    fail "hostile device $hostile was provisioned"
  fi
done
grep -q "must be EC P-256" "$run/p384.out" || fail "P-384 key: $(cat "$run/p384.out")"
expect_eq "$(order_field PO-M issued)" $((issued_before + 1)) "quota after the hostile devices"
grep -q "attestation signature does not match its DAC" "$run/forger.out" ||
  fail "wrong attestation: $(cat "$run/forger.out")"

# A fresh attestation from every device, with a nonce and challenge chosen here.
: > "$run/attestations.jsonl"
while read -r address; do
  nonce=$(openssl rand -hex 32)
  challenge=$(openssl rand -hex 16)
  "$bin/imprint-station" attest --device "$address" --nonce "$nonce" --challenge "$challenge" |
    sed "s/}\$/,\"nonce\":\"$nonce\",\"challenge\":\"$challenge\"}/" >> "$run/attestations.jsonl"
done < "$run/bulb.txt"
node "$modules/check_devices.mjs" "$run/paa.pem" "$run/cd-signer.pem" \
  "$run/station-line-1/labels.jsonl" "$run/bulb" "$run/attestations.jsonl"

# The printed labels (templates/labels/matter.zpl) rendered by zpl-renderer-js, their barcodes
# read by zbarimg and the QR decoded by matter.js.
mkdir -p "$run/png"
node "$modules/labels/render.mjs" "$run/png" "$run/printed"/*.zpl
: > "$run/scans.txt"
for png in "$run/png"/*.png; do
  device=$(basename "$png" .png)
  zbarimg -q "$png" 2>/dev/null > "$run/read.txt" || true
  printf '%s\t%s\t%s\n' "${device#PO-M.}" "$(sed -n 's/^QR-Code://p' "$run/read.txt")" \
    "$(sed -n 's/^CODE-128://p' "$run/read.txt")" >> "$run/scans.txt"
done
expect_eq "$(wc -l < "$run/scans.txt")" 50 "Matter labels rendered"
node "$modules/check_labels.mjs" "$run/scans.txt" "$run/station-line-1/labels.jsonl" "$run/bulb"

# The packaging list: one row per provisioned device, the label's codes, mode 0600, never
# written over.
"$bin/imprint-station" matter onboarding --state-dir "$run/station-line-1" --order PO-M \
  --out "$run/onboarding.csv" > "$run/onboarding.out"
grep -q "^50 devices" "$run/onboarding.out" || fail "onboarding CSV"
expect_eq "$(stat -c %a "$run/onboarding.csv")" 600 "onboarding CSV mode"
/usr/bin/python3 - "$run/onboarding.csv" "$run/station-line-1/labels.jsonl" <<'PY' || fail "onboarding CSV rows"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
labels = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    labels[r["device_id"]] = r
assert len(rows) == 50, len(rows)
for row in rows:
    l = labels[row["device_id"]]
    assert row["qr_payload"] == l["matter_qr_payload"] and row["manual_code"] == l["matter_manual_code"]
    assert row["serial"] == l["serial"] and int(row["discriminator"]) == l["matter_discriminator"]
PY
if "$bin/imprint-station" matter onboarding --state-dir "$run/station-line-1" --order PO-M \
    --out "$run/onboarding.csv" 2>/dev/null; then
  fail "the onboarding CSV was written over"
fi

# The profile matter.js does not check, with python3-cryptography and openssl.
/usr/bin/python3 "$here/check_profile.py" "$run/paa.pem" "$run/bulb"
for dir in "$run"/bulb/*/; do
  openssl x509 -in "$dir/chain.pem" -out "$run/pai.pem"
  not_before=$(date -d "$(openssl x509 -in "$dir/certificate.pem" -noout -startdate | cut -d= -f2)" +%s)
  openssl verify -x509_strict -attime "$not_before" -CAfile "$run/paa.pem" \
    -untrusted "$run/pai.pem" "$dir/certificate.pem" >/dev/null ||
    fail "openssl verify -x509_strict of $dir"
done

# The CA kept no passcode: the audit log and the store hold none of the labels' passcodes.
line_ca_stop
ca audit verify >/dev/null
# The hand-over manifest: each entry's x5c is DAC, PAI, PAA and names VID and PID; it verifies
# with the PAA given as the DACs' anchor, and not without it.
ca export --order PO-M --format manifest --out "$run/export" >/dev/null
"$bin/imprint-ca" manifest verify "$run/export/manifest.json" --root "$run/ca/root.pem" \
  --matter-paa "$run/paa.pem" > "$run/verify.out" || fail "Matter manifest: $(cat "$run/verify.out")"
/usr/bin/python3 - "$run/export/manifest.json" <<'PY' || fail "Matter manifest entries"
import base64, json, sys
entries = json.load(open(sys.argv[1]))
assert len(entries) == 51, len(entries)  # 50 devices and the one with a forged attestation
for e in entries:
    payload = json.loads(base64.urlsafe_b64decode(e["payload"] + "=" * (-len(e["payload"]) % 4)))
    assert payload["matter"] == {"vendorId": "FFF1", "productId": "8000"}, payload.get("matter")
    assert len(payload["publicKeySet"]["keys"][0]["x5c"]) == 3
PY
if "$bin/imprint-ca" manifest verify "$run/export/manifest.json" --root "$run/ca/root.pem" \
    > /dev/null 2>&1; then
  fail "a Matter manifest verified without its PAA"
fi
# The factory data the CA holds, one file per device, with the same salt, iterations and
# discriminator the device was given; refused for an order that is not a Matter one.
ca export --order PO-M --format matter-factory-data --out "$run/factory" >/dev/null
/usr/bin/python3 - "$run/factory" "$run/bulb" <<'PY' || fail "Matter factory data"
import base64, json, os, sys
files = sorted(f for f in os.listdir(sys.argv[1]) if f.endswith(".factory-data.json"))
assert len(files) == 51, len(files)
for name in files:
    fd = json.load(open(os.path.join(sys.argv[1], name)))
    secrets_path = os.path.join(sys.argv[2], fd["device_id"], "secrets.json")
    if not os.path.exists(secrets_path):
        continue  # the forger: issued, never committed
    s = json.load(open(secrets_path))
    assert fd["spake2p"]["salt"] == s["matter_salt"], name
    assert str(fd["spake2p"]["iterations"]) == s["matter_iterations"], name
    assert str(fd["discriminator"]) == s["matter_discriminator"], name
    assert base64.b64decode(fd["certification_declaration"]) == base64.b64decode(s["matter_cd"])
    assert (fd["vendor_id"], fd["product_id"]) == ("FFF1", "8000")
    assert "verifier" not in json.dumps(fd) and "passcode" not in json.dumps(fd)
PY
ca order create --id PO-PLAIN --product cam --quota 1 --station line-1 >/dev/null
expect_refused "factory data of an ordinary order" "not a Matter order" \
  ca export --order PO-PLAIN --format matter-factory-data --out "$run/plain"

# The evidence pack states the Matter facts and judges the passcodes as the devices' passwords.
ca evidence --order PO-M --out "$run/evidence" >/dev/null || true
/usr/bin/python3 - "$run/evidence/evidence.json" <<'PY' || fail "Matter evidence"
import json, sys
e = json.load(open(sys.argv[1]))
m = e["facts"]["matter"]
assert (m["vendor_id"], m["product_id"], m["pai"]) == ("FFF1", "8000", "acme-bulbs"), m
assert m["devices"] == m["distinct_passcodes"] == 51, m  # the forger got its data too
verdicts = {p["id"]: p for p in e["provisions"]}
for pid in ("5.1-1", "5.1-2"):
    assert verdicts[pid]["verdict"] == "PASS", verdicts[pid]
assert "27-bit Matter setup passcodes" in verdicts["5.1-2"]["because"]
PY

# A revoked DAC is on its PAI's CRL (signed by the PAI key), and on no CRL of the CA's own.
"$bin/imprint-ca" revoke device --config "$run/ca.toml" --id bulb-00003 --reason key-compromise \
  >/dev/null
ca matter crl --label acme-bulbs > "$run/pai-crl.out"
grep -q "CRL 1 with 1 entries" "$run/pai-crl.out" || fail "PAI CRL: $(cat "$run/pai-crl.out")"
pai_crl=$run/ca/crl/matter-acme-bulbs.crl.pem
openssl x509 -in "$run/bulb/bulb-00003/chain.pem" -out "$run/pai.pem"
for device in bulb-00003 bulb-00004; do
  openssl verify -crl_check -CAfile "$run/paa.pem" -untrusted "$run/pai.pem" -CRLfile "$pai_crl" \
    "$run/bulb/$device/certificate.pem" > "$run/crl-$device.out" 2>&1 || true
done
grep -q "certificate revoked" "$run/crl-bulb-00003.out" ||
  fail "revoked DAC against the PAI CRL: $(cat "$run/crl-bulb-00003.out")"
grep -q ": OK" "$run/crl-bulb-00004.out" ||
  fail "a good DAC against the PAI CRL: $(cat "$run/crl-bulb-00004.out")"
ca crl issue >/dev/null
revoked_serial=$(openssl x509 -in "$run/bulb/bulb-00003/certificate.pem" -noout -serial | cut -d= -f2)
openssl crl -in "$pai_crl" -noout -text > "$run/pai-crl.txt"
grep -qi "$revoked_serial" "$run/pai-crl.txt" ||
  fail "the serial is not found the way the issuing CA's CRL is searched"
openssl crl -in "$run/ca/crl/issuing.crl.pem" -noout -text > "$run/issuing-crl.txt"
if grep -qi "$revoked_serial" "$run/issuing-crl.txt"; then
  fail "a revoked DAC is on the issuing CA's CRL"
fi
sed -n 's/.*"matter_passcode":"\([0-9]*\)".*/\1/p' "$run/station-line-1/labels.jsonl" |
  head -n 5 > "$run/passcodes.txt"
[[ -s $run/passcodes.txt ]] || fail "no passcode on the labels"
if grep -a -F -f "$run/passcodes.txt" "$run/ca/imprint-ca.db" >/dev/null; then
  fail "a passcode is in the CA's store"
fi
echo "Matter line: 50 devices provisioned and checked by matter.js, python3-cryptography and openssl"
