#!/usr/bin/env bash
# Side by side with a peer: fetch the same 100 000 events from a sandbox log
# group with `opsdeck logs tail` and with `awslogs get` (PyPI awslogs, pointed
# at the sandbox with AWS_ENDPOINT_URL), check both return exactly the same
# events, and compare the CPU time (user + system) each client used.
# Usage: scripts/compare-awslogs.sh [EVENTS]   (uses the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-100000}
export AWS_EC2_METADATA_DISABLED=true
moto=$(scripts/ensure-moto.sh)
venv=$(dirname "$(dirname "$moto")")
"$venv/bin/pip" install --quiet --disable-pip-version-check "awslogs==0.15.0" >&2
cargo build --release --quiet
opsdeck=target/release/opsdeck

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
work=$(mktemp -d)
cleanup() { [ -n "${moto_pid:-}" ] && kill "$moto_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$moto" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done

export AWS_ACCESS_KEY_ID=opsdeck-sandbox AWS_SECRET_ACCESS_KEY=opsdeck-sandbox-secret AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="$endpoint"
group=/aws/lambda/dev-compare
# Write the events through boto3 (installed with moto): realistic lines, one ms apart.
start_ms=$("$venv/bin/python" - "$group" "$events" <<'PY'
import sys, time, boto3
group, n = sys.argv[1], int(sys.argv[2])
logs = boto3.client("logs")
logs.create_log_group(logGroupName=group)
logs.create_log_stream(logGroupName=group, logStreamName="s")
start = int(time.time() * 1000) - n - 60_000
batch = []
for i in range(n):
    level = ("ERROR", "WARN", "INFO", "INFO")[i % 4]
    batch.append({"timestamp": start + i, "message": f"[{level}]\t{i:08d}\tHandled request {i} for bundle {i * 7919 % 100003}"})
    if len(batch) == 10_000:
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=batch)
        batch = []
if batch:
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=batch)
print(start)
PY
)
end_ms=$((start_ms + events))
iso() { python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp(int(sys.argv[1])/1000, datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S'))" "$1"; }
since=$(iso "$((start_ms - 1000))")
until=$(iso "$((end_ms + 1000))")

cpu() { # runs "$@" with stdout to $out; prints user+sys seconds of the command
  local t0 t1
  t0=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
  TIMEFORMAT='%U %S'
  { time "$@" >"$out" 2>"$out.err"; } 2>"$out.time"
  awk '{printf "%.2f", $1 + $2}' "$out.time"
}

out="$work/opsdeck.txt"
opsdeck_cpu=$(cpu env TZ=UTC "$opsdeck" --endpoint-url "$endpoint" --config config/sandbox.toml --deployment dev \
  logs tail --since "${since/ /T}Z" --until "${until/ /T}Z" "$group")
out="$work/awslogs.txt"
awslogs_cpu=$(cpu "$venv/bin/awslogs" get "$group" ALL --start="$since" --end="$until" --no-group --no-stream)

# The same events: opsdeck prints "time stream message"; awslogs (as asked) prints the message.
cut -d' ' -f3- "$work/opsdeck.txt" | sort >"$work/a"
sort "$work/awslogs.txt" >"$work/b"
n_opsdeck=$(wc -l <"$work/a"); n_awslogs=$(wc -l <"$work/b")
echo "events: opsdeck $n_opsdeck, awslogs $n_awslogs (of $events written)"
if cmp -s "$work/a" "$work/b"; then echo "same events: yes"; else echo "same events: NO"; diff "$work/a" "$work/b" | head; exit 1; fi
echo "CPU time: opsdeck ${opsdeck_cpu} s, awslogs ${awslogs_cpu} s"
awk -v a="$awslogs_cpu" -v o="$opsdeck_cpu" 'BEGIN { if (o < 0.005) o = 0.005; printf "ratio: opsdeck uses %.1f× less CPU than awslogs\n", a / o }'
