#!/bin/sh
# Builds a sandbox function's zip from config/functions/NAME/*.py, as a
# `[[deployment.function]]` build command does (`make api.zip` in a real
# project). Uses python3's zipfile, so no zip tool is needed. The same
# sources give the same bytes, so an unchanged function deploys nothing.
set -eu
name="${1:?usage: sandbox-build-function.sh NAME OUT.zip}"
out="${2:?usage: sandbox-build-function.sh NAME OUT.zip}"
src="config/functions/$name"
[ -d "$src" ] || { printf '\033[31mno sources in %s\033[0m\n' "$src" >&2; exit 2; }
printf '\033[36m==>\033[0m zipping %s into %s\n' "$src" "$out"
mkdir -p "$(dirname "$out")"
python3 -m zipfile -c "$out" "$src"/*.py
printf '\033[32m==>\033[0m %s: %s bytes\n' "$out" "$(wc -c < "$out" | tr -d ' ')"
