#!/usr/bin/env bash
# Runs every test: unit, config fixtures, render snapshots, integration
# tests against moto servers the harness starts, and the tmux end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."
# Never let the SDK reach for EC2 instance metadata (an address off this machine).
export AWS_EC2_METADATA_DISABLED=true
# Everything the tests run besides cargo, checked before a long build starts.
missing=()
need() { # need WHAT PACKAGE PRESENT...
  local what=$1 package=$2
  shift 2
  if ! "$@" >/dev/null 2>&1; then
    echo "$what is needed: apt-get install $package" >&2
    missing+=("$package")
  fi
}
need "cargo (Rust)" cargo command -v cargo
need "Python 3 (for the moto AWS emulator)" python3 command -v python3
need "Python's venv module (to install moto)" python3-venv python3 -c 'import venv, ensurepip'
need "tmux (for the end-to-end tests)" tmux command -v tmux
need "OpenSSL (to check the VPN PKI's certificates and CRLs)" openssl command -v openssl
need "easy-rsa (to check the VPN PKI stays usable by it)" easy-rsa test -x /usr/share/easy-rsa/easyrsa
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing: ${missing[*]}" >&2
  exit 1
fi
OPSDECK_MOTO_SERVER=$(scripts/ensure-moto.sh)
export OPSDECK_MOTO_SERVER
cargo test --no-fail-fast "$@"
