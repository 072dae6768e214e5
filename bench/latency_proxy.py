#!/usr/bin/env python3
"""A loopback TCP proxy that adds a delay to every chunk it forwards, both
ways: a database "on the network" for bench/wait_bench.sh, a slow object
store for bench/s3_wait_bench.sh.

    latency_proxy.py LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS [KIB_PER_S]

Each direction of each connection forwards its chunks in order, each
DELAY_MS after it arrived (not after the previous one left), so a round
trip costs 2 x DELAY_MS and pipelined chunks are not slowed further. With
KIB_PER_S, each direction of each connection also sends at most that many
KiB a second (a chunk leaves once the ones before it had their time)."""
import asyncio
import sys


async def pump(reader, writer, delay, rate):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()
    free_at = [0.0]   # when the rate lets the next chunk leave

    async def read():
        while True:
            data = await reader.read(65536)
            await queue.put((loop.time() + delay, data))
            if not data:
                return

    async def write():
        while True:
            due, data = await queue.get()
            if rate:
                due = max(due, free_at[0])
                free_at[0] = due + len(data) / rate
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(read(), write())
    except (ConnectionError, asyncio.CancelledError):
        writer.close()


async def main(port, host, target, delay, rate):
    async def serve(cr, cw):
        try:
            ur, uw = await asyncio.open_connection(host, target)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pump(cr, uw, delay, rate), pump(ur, cw, delay, rate), return_exceptions=True)

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    print("proxy ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) / 1000.0,
                     float(sys.argv[5]) * 1024 if len(sys.argv) > 5 else 0.0))
