#!/usr/bin/env python3
"""Time to a complete fleet overview: `opsdeck fleet` against a sequential boto3 loop.

    scripts/compare-fleet.py [--deployments 12] [--delay-ms 50] [--runs 3]
                             [--opsdeck target/debug/opsdeck] [--same-account]

Starts moto (.venv/bin/moto_server, or $OPSDECK_MOTO_SERVER) on a free port,
seeds N deployments with `opsdeck sandbox seed` (directly, without latency),
then puts scripts/latency_proxy.py in front of moto and times, through it:

  * `opsdeck fleet --json` (the whole process: start, config, every cell);
  * a boto3 loop making the same read calls one deployment after another
    (STS, DescribeStacks, ListFunctions + GetFunctionConcurrency each,
    ListQueues + GetQueueAttributes each, DescribeLogGroups +
    FilterLogEvents per group over the last 15 minutes, DescribeDomain).

By default each deployment has its own account (moto takes a 12-digit
access key as the account id), as real fleets do; --same-account puts them
all in one account, so opsdeck's shared per-account budgets (FilterLogEvents
5/s, Lambda 15/s) pace it and boto3's loop, which has no budget, does not.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path="/moto-api/", seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"nothing answered on port {port}")


def wait_port(port, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"the proxy did not listen on {port}")


def names(n):
    return [f"env{i:02d}" for i in range(1, n + 1)]


def account(i, same):
    return "123456789012" if same else f"{100000000000 + i:012d}"


def write_files(tmp, n, endpoint, same):
    """A config and a credentials file: one profile (account) per deployment."""
    cfg, creds = [], []
    for i, name in enumerate(names(n)):
        region = REGIONS[i % len(REGIONS)]
        cfg.append(
            f"""
[[deployment]]
name = "{name}"
profile = "{name}"
region = "{region}"
endpoint_url = "{endpoint}"

[deployment.resources]
stacks = {{ prefix = "{name}-" }}
lambdas = {{ prefix = "{name}-" }}
queues = {{ prefix = "{name}-" }}
log_groups = {{ prefix = "/aws/lambda/{name}-" }}
opensearch_domain = "{name}-index"
"""
        )
        creds.append(
            f"[{name}]\naws_access_key_id = {account(i, same)}\naws_secret_access_key = x\n"
        )
    config = tmp / f"fleet-{endpoint.rsplit(':', 1)[1]}.toml"
    config.write_text("refresh_interval_secs = 30\n" + "".join(cfg))
    (tmp / "credentials").write_text("\n".join(creds))
    (tmp / "config").write_text("")
    return config


def boto3_loop(n, endpoint, same):
    import boto3

    start_ms = int((time.time() - 15 * 60) * 1000)
    for i, name in enumerate(names(n)):
        s = boto3.Session(
            aws_access_key_id=account(i, same),
            aws_secret_access_key="x",
            region_name=REGIONS[i % len(REGIONS)],
        )
        c = lambda svc: s.client(svc, endpoint_url=endpoint)  # noqa: E731
        c("sts").get_caller_identity()
        cf = c("cloudformation")
        for page in cf.get_paginator("describe_stacks").paginate():
            [st for st in page["Stacks"] if st["StackName"].startswith(f"{name}-")]
        lm = c("lambda")
        for page in lm.get_paginator("list_functions").paginate():
            for f in page["Functions"]:
                if f["FunctionName"].startswith(f"{name}-"):
                    lm.get_function_concurrency(FunctionName=f["FunctionName"])
        sqs = c("sqs")
        for url in sqs.list_queues(QueueNamePrefix=f"{name}-").get("QueueUrls", []):
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        logs = c("logs")
        groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}-")["logGroups"]
        for g in groups:
            kw = dict(
                logGroupName=g["logGroupName"],
                startTime=start_ms,
                filterPattern="?ERROR ?Error ?error ?FATAL ?fatal ?CRITICAL ?critical",
            )
            while True:
                out = logs.filter_log_events(**kw)
                if not out.get("nextToken"):
                    break
                kw["nextToken"] = out["nextToken"]
        c("opensearch").describe_domain(DomainName=f"{name}-index")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deployments", type=int, default=12)
    ap.add_argument("--delay-ms", type=float, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--opsdeck", default=str(REPO / "target/debug/opsdeck"))
    ap.add_argument("--same-account", action="store_true")
    args = ap.parse_args()

    moto_bin = os.environ.get("OPSDECK_MOTO_SERVER") or str(REPO / ".venv/bin/moto_server")
    moto_port, proxy_port = free_port(), free_port()
    tmp = Path(tempfile.mkdtemp(prefix="opsdeck-fleet-"))
    env = dict(
        os.environ,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "credentials"),
        AWS_CONFIG_FILE=str(tmp / "config"),
    )
    os.environ.update(env)
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [moto_bin, "-H", "127.0.0.1", "-p", str(moto_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_http(moto_port)
        direct = write_files(tmp, args.deployments, f"http://127.0.0.1:{moto_port}", args.same_account)
        t = time.time()
        subprocess.run(
            [args.opsdeck, "--config", str(direct), "sandbox", "seed"],
            env=env, check=True, stdout=subprocess.DEVNULL, cwd=tmp,
        )
        print(f"seeded {args.deployments} deployments in {time.time() - t:.1f} s", file=sys.stderr)

        procs.append(
            subprocess.Popen(
                [sys.executable, str(REPO / "scripts/latency_proxy.py"),
                 "--listen", str(proxy_port), "--to", f"127.0.0.1:{moto_port}",
                 "--delay-ms", str(args.delay_ms), "--max-seconds", "3600"],
            )
        )
        wait_port(proxy_port)
        proxied_url = f"http://127.0.0.1:{proxy_port}"
        proxied = write_files(tmp, args.deployments, proxied_url, args.same_account)

        ours, theirs = [], []
        for run in range(args.runs):
            t = time.perf_counter()
            out = subprocess.run(
                [args.opsdeck, "--config", str(proxied), "fleet", "--json"],
                env=env, capture_output=True, text=True, cwd=tmp,
            )
            ours.append(time.perf_counter() - t)
            rows = json.loads(out.stdout)
            statuses = sorted({r["status"] for r in rows})
            assert len(rows) == args.deployments and "unreachable" not in statuses, out.stdout

            t = time.perf_counter()
            boto3_loop(args.deployments, proxied_url, args.same_account)
            theirs.append(time.perf_counter() - t)
            print(f"run {run + 1}: opsdeck {ours[-1]:.2f} s, boto3 {theirs[-1]:.2f} s "
                  f"(statuses {statuses})", file=sys.stderr)

        a, b = statistics.median(ours), statistics.median(theirs)
        print(json.dumps({
            "deployments": args.deployments,
            "delay_ms": args.delay_ms,
            "same_account": args.same_account,
            "opsdeck_s": round(a, 3),
            "boto3_sequential_s": round(b, 3),
            "speedup": round(b / a, 1),
        }))
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
