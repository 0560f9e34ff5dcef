#!/usr/bin/env bash
# Installs the pinned moto server into ./.venv unless it is already there.
# Prints the path of moto_server.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION=5.2.5
venv=.venv
if [ -x "$venv/bin/moto_server" ] && "$venv/bin/python" -c "import moto,sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "$PWD/$venv/bin/moto_server"
  exit 0
fi
python=$(command -v python3 || true)
if [ -z "$python" ]; then
  echo "python3 is needed for the local AWS sandbox (moto): apt-get install python3 python3-venv" >&2
  exit 1
fi
echo "installing moto[server]==$MOTO_VERSION into $venv ..." >&2
"$python" -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
echo "$PWD/$venv/bin/moto_server"
