#!/usr/bin/env bash
# Disable-all and enable-all of 100 functions with 50 ms added to every
# request (scripts/latency_proxy_lambda.py), against a sequential boto3 loop
# making the same calls. Prints wall time and the request rate reached.
# Usage: scripts/measure_lambdas.sh [path/to/opsdeck]   (default: debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=opsdeck-sandbox AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1
bin=${1:-target/debug/opsdeck}
moto=${OPSDECK_MOTO_SERVER:-$(scripts/ensure-moto.sh)}
py=$(dirname "$moto")/python
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mport=$(free); pport=$(free)
work=$(mktemp -d)
cleanup() { kill "${moto_pid:-}" "${proxy_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$moto" -H 127.0.0.1 -p "$mport" >"$work/moto.log" 2>&1 & moto_pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$mport/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS -X POST "http://127.0.0.1:$mport/moto-api/config" -d '{"lambda": {"use_docker": false}}' >/dev/null
python3 scripts/latency_proxy_lambda.py --listen "127.0.0.1:$pport" --upstream "127.0.0.1:$mport" --delay-ms 50 --log "$work/reqs.txt" & proxy_pid=$!
"$py" - "$mport" <<'PY'
import io, sys, zipfile, boto3
c = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}")
iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}")
role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("h.py", "def handler(e, c):\n    return e\n")
for i in range(100):
    c.create_function(FunctionName=f"m-{i:03}", Runtime="python3.12", Role=role, Handler="h.handler", Code={"ZipFile": buf.getvalue()})
    if i % 3 == 0:
        c.put_function_concurrency(FunctionName=f"m-{i:03}", ReservedConcurrentExecutions=5)
PY
cat >"$work/config.toml" <<TOML
[[deployment]]
name = "m"
region = "us-east-1"
endpoint_url = "http://127.0.0.1:$pport"
sandbox_credentials = true
[deployment.resources]
lambdas = { prefix = "m-" }
TOML
export OPSDECK_AUDIT_LOG="$work/audit.jsonl"
rate() { # requests and their rate within the window [start, end]
  awk -v s="$1" -v e="$2" '$1>=s && $1<=e {n++; if(!f||$1<f)f=$1; if($1>l)l=$1} END {printf "%d requests, %.1f/s over the job", n, (l>f)? (n-1)/(l-f) : 0}' "$work/reqs.txt"
}
for verb in disable enable; do
  s=$(date +%s.%N)
  "$bin" --config "$work/config.toml" --deployment m lambdas "$verb" --all --yes 2>"$work/$verb.err" >/dev/null
  e=$(date +%s.%N)
  echo "opsdeck lambdas $verb --all: $(python3 -c "print(f'{$e-$s:.2f}')") s wall (listing included); $(rate "$s" "$e")"
done
s=$(date +%s.%N)
"$py" - "$pport" <<'PY'
import sys, boto3
c = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}")
fns = [(f["FunctionName"], f["FunctionArn"]) for p in c.get_paginator("list_functions").paginate() for f in p["Functions"] if f["FunctionName"].startswith("m-")]
for n, arn in fns:  # the same calls, one after another: read, tag, disable
    prev = c.get_function_concurrency(FunctionName=n).get("ReservedConcurrentExecutions")
    c.tag_resource(Resource=arn, Tags={"opsdeck:reserved-concurrency": "none" if prev is None else str(prev)})
    c.put_function_concurrency(FunctionName=n, ReservedConcurrentExecutions=0)
PY
e=$(date +%s.%N)
echo "boto3 sequential disable-all: $(python3 -c "print(f'{$e-$s:.2f}')") s wall; $(rate "$s" "$e")"
