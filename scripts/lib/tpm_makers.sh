# Software TPMs as a TPM maker ships them, for key attestation (docs/attestation.md): a maker's
# CA from swtpm_localca and TPMs manufactured with EK certificates by swtpm_setup, each served
# by its own swtpm. Source after scripts/lib/line.sh and scripts/lib/modules.sh; needs $run.

# tpm_maker NAME: the maker's CA (a root and an issuing CA, made by swtpm_localca on first use)
# in $run/maker-NAME/ca; tpm_maker_roots NAME DIR copies its certificates into DIR.
tpm_maker() {
  local dir=$run/maker-$1
  mkdir -p "$dir/ca"
  printf 'statedir = %s\nsigningkey = %s\nissuercert = %s\ncertserial = %s\n' \
    "$dir/ca" "$dir/ca/signkey.pem" "$dir/ca/issuercert.pem" "$dir/ca/certserial" \
    > "$dir/localca.conf"
  printf 'create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = %s\n%s\n' \
    "$dir/localca.conf" "active_pcr_banks = sha256" > "$dir/setup.conf"
}

tpm_maker_roots() {
  mkdir -p "$2"
  cp "$run/maker-$1/ca/swtpm-localca-rootca-cert.pem" "$2/$1-root.pem"
  cp "$run/maker-$1/ca/issuercert.pem" "$2/$1-issuer.pem"
}

# tpm_make NAME MAKER: a TPM manufactured by MAKER (RSA and ECC EKs with certificates in NV),
# served by swtpm on loopback; its TCTI in $run/tcti-NAME.
tpm_make() {
  local name=$1 maker=$2
  mkdir -p "$run/tpm/$name"
  if ! swtpm_setup --tpm2 --tpmstate "$run/tpm/$name" --create-ek-cert \
      --config "$run/maker-$maker/setup.conf" >> "$run/swtpm-setup.log" 2>&1; then
    echo "swtpm_setup for $name failed:" >&2
    tail -5 "$run/swtpm-setup.log" >&2
    return 1
  fi
  swtpm_serve "$run/tpm/$name" || return 1
  echo "swtpm:host=127.0.0.1,port=$swtpm_port" > "$run/tcti-$name"
}

# tpm_tcti_args FIRST COUNT: --tpm-tcti for TPMs tpm-FIRST ... tpm-(FIRST+COUNT-1).
tpm_tcti_args() {
  local i
  for i in $(seq "$1" $(($1 + $2 - 1))); do printf -- '--tpm-tcti\n%s\n' "$(cat "$run/tcti-tpm-$i")"; done
}
