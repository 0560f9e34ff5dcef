#!/usr/bin/env python3
"""A TCP proxy on loopback that adds latency, to measure opsdeck as if AWS were far away.

    latency_proxy.py --listen PORT --to HOST:PORT --delay-ms 50 [--max-seconds N]

Every request/response exchange gains --delay-ms: each chunk read from the
client reaches the server half the delay later, and each chunk of the answer
reaches the client half the delay later (in order, per direction). Several
connections run at once and independently, as with a real distant endpoint.

Only loopback: it listens on 127.0.0.1 and refuses a target that is not a
loopback address, so it can never relay traffic off this machine. It exits
when the process that started it dies, or after --max-seconds.

Python 3 standard library only (asyncio).
"""

import argparse
import asyncio
import ipaddress
import os
import signal
import socket
import sys


# asyncio keeps only weak references to tasks; these keep each sender alive
# until it has written everything (else one can vanish mid-connection).
_tasks = set()


def spawn(coro):
    task = asyncio.create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task


def loopback(host):
    """True when every address `host` resolves to is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


async def pipe(reader, writer, delay):
    """Copies reader to writer, each chunk `delay` seconds late, in order."""
    queue = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            try:
                writer.write_eof()
            except OSError:
                pass

    sender = spawn(send())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            queue.put_nowait((loop.time() + delay, data))
    except (ConnectionError, OSError):
        pass
    finally:
        queue.put_nowait((0, None))
        try:
            await sender
        except (ConnectionError, OSError):
            pass


async def handle(client_reader, client_writer, host, port, delay):
    try:
        server_reader, server_writer = await asyncio.open_connection(host, port)
    except OSError:
        client_writer.close()
        return
    half = delay / 2
    try:
        await asyncio.gather(
            pipe(client_reader, server_writer, half),
            pipe(server_reader, client_writer, half),
        )
    finally:
        for w in (client_writer, server_writer):
            try:
                w.close()
            except OSError:
                pass


async def watch_parent(parent):
    """Ends the proxy when the process that started it is gone."""
    while True:
        await asyncio.sleep(0.5)
        if os.getppid() != parent:
            return


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", type=int, required=True, help="port to listen on (127.0.0.1)")
    ap.add_argument("--to", required=True, help="HOST:PORT to forward to (loopback only)")
    ap.add_argument("--delay-ms", type=float, default=50.0, help="latency added to each exchange")
    ap.add_argument("--max-seconds", type=float, default=None, help="exit after this long")
    args = ap.parse_args()

    host, _, port = args.to.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        sys.exit(f"latency_proxy: --to must be HOST:PORT, not {args.to!r}")
    if not loopback(host):
        sys.exit(f"latency_proxy: refusing {host}: the target must be a loopback address")

    delay = args.delay_ms / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, host, int(port), delay), "127.0.0.1", args.listen
    )
    print(
        f"latency_proxy: 127.0.0.1:{args.listen} -> {host}:{port}, +{args.delay_ms:g} ms",
        file=sys.stderr,
        flush=True,
    )
    stops = [asyncio.create_task(watch_parent(os.getppid()))]
    if args.max_seconds is not None:
        stops.append(asyncio.create_task(asyncio.sleep(args.max_seconds)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    stops.append(asyncio.create_task(stop.wait()))
    async with server:
        await asyncio.wait(stops, return_when=asyncio.FIRST_COMPLETED)


if __name__ == "__main__":
    asyncio.run(main())
