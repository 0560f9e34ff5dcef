#!/usr/bin/env python3
"""A TCP proxy that adds latency to every request, and logs when each went.

Minimal stand-in for scripts/latency_proxy.py (being written elsewhere):
each chunk read from a client that starts an HTTP request is held for
--delay-ms before it is forwarded, so every request pays the delay once.
Request start times are appended to --log (one float a line) to measure the
rate actually reached.

    latency_proxy_lambda.py --listen 127.0.0.1:5050 --upstream 127.0.0.1:5000 --delay-ms 50 --log reqs.txt
"""
import argparse
import asyncio
import time

METHODS = (b"GET ", b"PUT ", b"POST ", b"DELETE ", b"HEAD ", b"PATCH ")


async def pipe(reader, writer, delay, log):
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            if delay and chunk.startswith(METHODS):
                await asyncio.sleep(delay)
                if log is not None:
                    log.write(f"{time.time():.6f} {chunk.split(b' ', 2)[0].decode()} {chunk.split(b' ', 2)[1].decode()}\n")
                    log.flush()
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", default="127.0.0.1:5050")
    p.add_argument("--upstream", required=True)
    p.add_argument("--delay-ms", type=float, default=50)
    p.add_argument("--log")
    a = p.parse_args()
    lh, lp = a.listen.rsplit(":", 1)
    uh, up = a.upstream.rsplit(":", 1)
    log = open(a.log, "a") if a.log else None

    async def handle(cr, cw):
        ur, uw = await asyncio.open_connection(uh, int(up))
        await asyncio.gather(pipe(cr, uw, a.delay_ms / 1000, log), pipe(ur, cw, 0, None))

    server = await asyncio.start_server(handle, lh, int(lp))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
