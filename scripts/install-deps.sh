#!/usr/bin/env bash
# Installs every Debian 12 package imprint needs to build, test and run the demo line; with
# --demo, only what building the programs and running the demo line need.
# Idempotent: when everything is present it prints nothing and exits 0.
set -euo pipefail

# What building the programs needs (the CMake configuration finds every one of these), and the
# tools the demo line runs.
packages=(
  build-essential cmake pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libssl-dev openssl
  libsqlite3-dev
  libpq-dev
  softhsm2 libp11-kit-dev
  catch2 libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libcpp-httplib-dev
  libmicrohttpd-dev libgnutls28-dev prometheus-cpp-dev libsystemd-dev
  libtss2-dev
  libmbedtls-dev zlib1g-dev
  ccache lld
)
# What only the tests use: independent checkers, other PKCS#11 modules, a software TPM, a
# PostgreSQL server, the sanitizer runtime, the formatter, strace (which counts what a command
# opens) and a browser.
test_packages=(
  sqlite3 postgresql-15 prometheus
  gnutls-bin python3-cryptography python3-grpcio python3-jwcrypto
  libengine-pkcs11-openssl
  opencryptoki libopencryptoki0
  swtpm tpm2-abrmd libtss2-tcti-tabrmd0 libtss2-tcti-swtpm0 dbus
  libtpm2-pkcs11-1 libtpm2-pkcs11-tools tpm2-tools swtpm-tools python3-tpm2-pytss
  clang-14 libclang-rt-14-dev clang-format strace
  strongswan-pki libstrongswan-standard-plugins libstrongswan-extra-plugins
  zbar-tools nghttp2-client
  chromium
)
if [[ ${1:-} != --demo ]]; then
  packages+=("${test_packages[@]}")
  # Node.js and npm drive the console's browser test (tests/console) and run matter.js for the
  # Matter tests (tests/matter); a machine that has them
  # from elsewhere (NodeSource, a newer release) keeps them.
  command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
