#!/usr/bin/env python3
"""Purge-all of 200 queues, opsdeck against a sequential boto3 loop, both
through scripts/latency_proxy.py adding 50 ms to every exchange with moto.

    .venv/bin/python scripts/compare-purge.py [--queues 200] [--delay-ms 50] [--bin target/debug/opsdeck]

Both sides make the same calls: list the queues, read each queue's
attributes, purge each queue. Prints both wall times and their ratio.
Loopback only: moto and the proxy are started here on free ports and
stopped at the end.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on {port}")


def sqs(endpoint):
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="opsdeck-sandbox",
        aws_secret_access_key="opsdeck-sandbox-secret",
    )


def fill(client, n):
    urls = []
    for i in range(n):
        url = client.create_queue(QueueName=f"bench-{i:03d}")["QueueUrl"]
        client.send_message(QueueUrl=url, MessageBody="x")
        urls.append(url)
    return urls


def boto3_loop(client):
    """The calls opsdeck makes, one after another."""
    urls = client.list_queues(QueueNamePrefix="bench-", MaxResults=1000)["QueueUrls"]
    for url in urls:
        client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    for url in urls:
        client.purge_queue(QueueUrl=url)
    return len(urls)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--queues", type=int, default=200)
    ap.add_argument("--delay-ms", type=int, default=50)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/debug/opsdeck"))
    args = ap.parse_args()

    moto_port, proxy_port = free_port(), free_port()
    moto = subprocess.Popen(
        [os.path.join(ROOT, ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy = subprocess.Popen(
        [
            sys.executable,
            os.path.join(HERE, "latency_proxy.py"),
            "--listen",
            str(proxy_port),
            "--to",
            f"127.0.0.1:{moto_port}",
            "--delay-ms",
            str(args.delay_ms),
            "--max-seconds",
            "600",
        ]
    )
    try:
        wait_port(moto_port)
        wait_port(proxy_port)
        direct = sqs(f"http://127.0.0.1:{moto_port}")
        far = f"http://127.0.0.1:{proxy_port}"
        fill(direct, args.queues)

        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, "config.toml")
            with open(config, "w") as f:
                f.write(
                    f'[[deployment]]\nname = "bench"\nregion = "us-east-1"\n'
                    f'endpoint_url = "{far}"\nsandbox_credentials = true\n'
                    f'[deployment.resources]\nqueues = {{ prefix = "bench-" }}\n'
                )
            env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true",
                       OPSDECK_AUDIT_LOG=os.path.join(tmp, "audit.jsonl"))
            start = time.monotonic()
            out = subprocess.run(
                [args.bin, "--config", config, "--deployment", "bench",
                 "queues", "purge", "--all", "--yes"],
                env=env, capture_output=True, text=True,
            )
            ours = time.monotonic() - start
            if out.returncode != 0:
                sys.exit(f"opsdeck failed: {out.stderr}")
            print(f"opsdeck: {out.stdout.strip()} in {ours:.2f} s")

        # Refill (SQS allows one purge a minute per queue: new queues).
        for url in direct.list_queues(QueueNamePrefix="bench-", MaxResults=1000)["QueueUrls"]:
            direct.delete_queue(QueueUrl=url)
        fill(direct, args.queues)
        start = time.monotonic()
        n = boto3_loop(sqs(far))
        theirs = time.monotonic() - start
        print(f"boto3 sequential: purged {n} queues in {theirs:.2f} s")
        print(f"ratio: {theirs / ours:.1f}x faster ({args.queues} queues, {args.delay_ms} ms added)")
    finally:
        proxy.terminate()
        moto.terminate()


if __name__ == "__main__":
    main()
