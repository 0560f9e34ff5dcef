#!/usr/bin/env bash
# The newcomer's first run: start moto, seed the sandbox's two deployments,
# keep log lines flowing and the health endpoints answering (V in the console,
# and after every deploy), open the console; stop everything when it exits.
# PORT=NNNN picks another port than the one config/sandbox.toml names.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_EC2_METADATA_DISABLED=true
config=config/sandbox.toml
moto=$(scripts/ensure-moto.sh)
cargo build --quiet
opsdeck=target/debug/opsdeck

configured=$(sed -n 's|^endpoint_url = "http://127.0.0.1:\([0-9]*\)".*|\1|p' "$config" | head -n1)
port=${PORT:-$configured}
endpoint="http://127.0.0.1:$port"
# The search domains' data plane (served by `sandbox follow`) on the next port.
search="http://127.0.0.1:$((port + 1))"
mkdir -p target/sandbox
# The health and version endpoints (also `sandbox follow`'s) on the one after:
# on another PORT, a copy of the config names theirs.
if [ "$port" != "$configured" ]; then
  sed "s|127.0.0.1:$((configured + 2))/|127.0.0.1:$((port + 2))/|g" "$config" >target/sandbox/config.toml
  config=target/sandbox/config.toml
fi
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1; then
  echo "reusing the moto server already on port $port"
elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "port $port is taken by something that is not moto: run PORT=<free port> make demo" >&2
  exit 1
else
  "$moto" -H 127.0.0.1 -p "$port" >target/sandbox/moto.log 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1 && break
    sleep 0.2
  done
fi

"$opsdeck" --config "$config" --endpoint-url "$endpoint" sandbox seed
"$opsdeck" --config "$config" --endpoint-url "$endpoint" --opensearch-url "$search" sandbox follow --rate 5 >target/sandbox/follow.log 2>&1 &
pids+=($!)
"$opsdeck" --config "$config" --endpoint-url "$endpoint" --opensearch-url "$search" "$@"
