#!/usr/bin/env bash
# Runs every test: unit, config fixtures, render snapshots, integration
# tests against moto servers the harness starts, and the tmux end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."
# Never let the SDK reach for EC2 instance metadata (an address off this machine).
export AWS_EC2_METADATA_DISABLED=true
OPSDECK_MOTO_SERVER=$(scripts/ensure-moto.sh)
export OPSDECK_MOTO_SERVER
if ! command -v tmux >/dev/null; then
  echo "tmux is needed for the end-to-end test: apt-get install tmux" >&2
  exit 1
fi
cargo test "$@"
