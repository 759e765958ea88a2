#!/usr/bin/env bash
# Key attestation end to end through the real binaries (docs/attestation.md): 16 software TPMs
# (swtpm) manufactured by `swtpm_setup --create-ek-cert` with a TPM maker CA made by
# swtpm_localca; the CA trusts that maker (attestation.tpm_roots); an order with
# --attestation tpm; 16 devices whose keys are made in their TPMs are attested and provisioned.
# Then, with tools nobody here wrote: every EK chain with `openssl verify`; every stored certify
# structure decoded by python3-tpm2-pytss and, with it and
# python3-cryptography, its attested Name equal to the Name of the device key whose point is
# the certificate's key, and the AK's signature over it valid.
# And the refusals, each with its reason in the station's summary and the audit log, nothing
# issued, the quota untouched: an EK certificate from a maker not trusted; an AK from another
# TPM (another TPM's EK certificate, so activation fails); a key made outside the TPM and
# loaded into it; a certify over another key; a certify replayed with an old nonce; a device
# with a file key under attestation = "tpm".
# Usage: tpm_attestation_test.sh BIN_DIR
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
run=$(mktemp -d "${TMPDIR:-/tmp}/imprint-tpmatt-XXXXXX")
source "$here/../../scripts/lib/line.sh"
source "$here/../../scripts/lib/modules.sh"
source "$here/../../scripts/lib/tpm_makers.sh"
source "$here/e2e_lib.sh"
trap 'line_show_logs $?; line_cleanup; rm -rf "$run"' EXIT
ca() { "$bin/imprint-ca" "$@" --config "$run/ca.toml"; }

# tpm_agents NAME COUNT FIRST [MODE]: COUNT devices with keys in TPMs tpm-FIRST...; MODE: a
# hostile agent's mode.
tpm_agents() {
  local name=$1 count=$2 first=$3 mode=${4:-} args
  mapfile -t args < <(tpm_tcti_args "$first" "$count")
  if [[ -n $mode ]]; then
    agent=imprint-agent-hostile line_agents "$name" "$count" "$mode" --key-backend tpm "${args[@]}"
  else
    line_agents "$name" "$count" --key-backend tpm "${args[@]}"
  fi
}

# The trusted maker and its 16 + 5 TPMs; an untrusted maker and one TPM of its own.
tpm_maker acme-tpm
tpm_maker rogue-tpm
for i in $(seq 1 21); do tpm_make "tpm-$i" acme-tpm || fail "TPM $i"; done
tpm_make tpm-rogue rogue-tpm || fail "the rogue maker's TPM"
tpm_maker_roots acme-tpm "$run/tpm-roots"

line_token >/dev/null
line_ca_config
printf '[attestation]\ntpm_roots = "%s"\n' "$run/tpm-roots" >> "$run/ca.toml"
"$bin/imprint-ca" init --config "$run/ca.toml" >/dev/null 2>&1
line_ca_start
grep -q "key attestation: 1 TPM maker root" "$run/ca.log" || fail "the CA did not load its TPM root"
line_station line-1 >/dev/null
ca order create --id PO-TPM --product gateway --quota 30 --station line-1 --attestation tpm \
  >/dev/null
provision() {  # provision DEVICES_NAME PARALLEL: the station's exit code; output in NAME.out
  "$bin/imprint-station" provision --state-dir "$run/station-line-1" --ca "$ca_addr" \
    --order PO-TPM --devices-file "$run/$1.txt" --parallel "$2" > "$run/$1.out" 2>&1
}

# 16 devices, keys made in their TPMs, attested and provisioned at P=4.
tpm_agents gw 16 1
provision gw 4 || { cat "$run/gw.out" >&2; fail "the attested line did not provision every device"; }
expect_eq "$(committed gw)" 16 "committed devices"
expect_eq "$(order_field PO-TPM verified)" 16 "verified at the CA"

# The evidence as a buyer gets it, checked by openssl and python3-tpm2-pytss (tpm2-tools 5.4's
# tpm2_print decodes quotes only: "Cannot print unsupported type 0x8017").
for i in $(seq 1 16); do
  device=$(printf 'gw-%05d' "$i")
  dir=$run/evidence/$device
  ca device show --id "$device" --evidence-dir "$dir" > "$run/show.out"
  grep -q '^attestation tpm$' "$run/show.out" || fail "device show: no attestation for $device"
  grep -q '^ek_issuer .*swtpm' "$run/show.out" || fail "device show: no EK issuer for $device"
  openssl x509 -inform DER -in "$dir/ek.der" -out "$dir/ek.pem"
  openssl verify -CAfile "$run/tpm-roots/acme-tpm-root.pem" -untrusted "$run/tpm-roots/acme-tpm-issuer.pem" \
    "$dir/ek.pem" >/dev/null || fail "openssl verify: the EK certificate of $device"
  cp "$run/gw/$device/certificate.pem" "$dir/certificate.pem"
done
/usr/bin/python3 "$here/check_tpm_evidence.py" "$run/evidence" ||
  fail "the stored evidence does not check out"
"$bin/imprint-ca" audit export --config "$run/ca.toml" > "$run/audit.jsonl"
expect_eq "$(grep '"event":"certificate.issued"' "$run/audit.jsonl" | grep -c 'ek_sha256')" 16 \
  "issuance records carrying the evidence"

# The refusals: each names its reason at the station and in the audit log; nothing is issued.
issued_before=$(order_field PO-TPM issued)
# refused NAME REASON: the station failed NAME's device with REASON, and the audit log says so.
refused() {
  local name=$1 reason=$2
  if provision "$name" 1; then fail "$name: provisioned"; fi
  grep -q -- "$reason" "$run/$name.out" || fail "$name: refused without '$reason': $(cat "$run/$name.out")"
  "$bin/imprint-ca" audit export --config "$run/ca.toml" |
    grep '"event":"attestation.refused"' | grep -- "$name-00001" | grep -- "$reason" > /dev/null ||
    fail "$name: no attestation.refused record with '$reason'"
}
# A TPM from a maker the CA does not trust.
args=(--tpm-tcti "$(cat "$run/tcti-tpm-rogue")")
line_agents untrusted 1 --key-backend tpm "${args[@]}"
refused untrusted "EK certificate does not chain to a TPM maker root"
# Another TPM's EK certificate (copied: it is public): the credential cannot be opened.
cp "$run/evidence/gw-00001/ek.der" "$run/borrowed-ek.der"
IMPRINT_HOSTILE_EK_CERT=$run/borrowed-ek.der tpm_agents borrowed 1 17 borrowed-ek
refused borrowed "credential activation failed"
# A key made outside the TPM and loaded into it to be certified.
tpm_agents imported 1 18 imported-key
refused imported "the device key was not made in the TPM"
# A certify over another key of the TPM.
tpm_agents other 1 19 certify-other-key
refused other "the certify is over another key"
# A certify kept from a first attempt and replayed with the next challenge.
tpm_agents replay 1 20 replay-certify
if provision replay 1; then fail "replay: the first attempt went through"; fi
refused replay "the certify nonce is not this challenge's"
# A device with its key in a file, under an order that requires attestation.
line_agents filekey 1
refused filekey "attestation required"
expect_eq "$(order_field PO-TPM issued)" "$issued_before" "quota after the refused devices"
for name in untrusted borrowed imported other replay filekey; do
  if ca device show --id "$name-00001" >/dev/null 2>&1; then fail "$name: the CA recorded it"; fi
done

# An honest TPM device still goes through afterwards (the refusals left nothing behind); its
# TPM has no persistent EK (swtpm_setup left one at 0x81010001 in the others), so the agent
# makes the EK again from the endorsement seed with the TCG template.
tpm2_evictcontrol -T "$(cat "$run/tcti-tpm-21")" -C o -c 0x81010001 >/dev/null ||
  fail "could not evict TPM 21's persistent EK"
tpm_agents late 1 21
provision late 1 || { cat "$run/late.out" >&2; fail "an honest device after the refusals"; }
expect_eq "$(order_field PO-TPM verified)" 17 "verified after the refusals"

# The evidence pack counts the attested keys under 5.4-1.
ca evidence --order PO-TPM --out "$run/pack" >/dev/null || true
/usr/bin/python3 - "$run/pack/evidence.json" <<'PY' || fail "evidence pack"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["facts"]["device_keys"]["tpm_attested"] == 17, e["facts"]["device_keys"]
verdicts = {p["id"]: p for p in e["provisions"]}
assert "device keys attested TPM-resident: 17 of 17" in verdicts["5.4-1"]["because"], verdicts["5.4-1"]
PY
echo "tpm attestation: 17 devices attested, 6 refusals with their reasons"
