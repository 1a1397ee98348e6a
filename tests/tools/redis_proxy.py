#!/usr/bin/env python3
"""A TCP proxy between a Redis client and redis-server that injects faults
on command, for the fault tests (tests/integration/test_fault_redis.sh).

usage: redis_proxy.py LISTEN_PORT UPSTREAM_PORT CONTROL_FIFO

Prints `READY` on stdout once listening. Commands, one per line written to
CONTROL_FIFO, each answered on stdout with `PROXY ok <command>`:

  lose-exec N   the next N EXEC replies are swallowed: the EXEC reaches Redis
                (the transaction applies) but the client connection is closed
                before its reply is relayed (prints `LOST EXEC <total>`)
  delay MS      every batch of replies is relayed MS ms late (0: none)
  hold MS       client bytes wait MS ms before going on to Redis (a write pause)

The proxy parses RESP in both directions to pair each reply with the
command it answers; it handles what hiredis sends (arrays of bulk strings).
"""
import asyncio
import collections
import sys
import threading


def resp_end(buf, pos=0):
    """End offset of the RESP value starting at pos, or None if incomplete."""
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    kind, head = buf[pos:pos + 1], buf[pos + 1:nl]
    after = nl + 2
    if kind in (b"+", b"-", b":"):
        return after
    n = int(head)
    if kind == b"$":
        if n < 0:
            return after
        return after + n + 2 if len(buf) >= after + n + 2 else None
    if kind == b"*":
        for _ in range(max(n, 0)):
            after = resp_end(buf, after)
            if after is None:
                return None
        return after
    raise ValueError("not RESP: %r" % buf[pos:pos + 20])


def split_values(buf):
    """(start, end) of each complete RESP value at the front of buf."""
    out, pos = [], 0
    while True:
        end = resp_end(buf, pos)
        if end is None:
            return out
        out.append((pos, end))
        pos = end


def command_name(buf, start):
    """Upper-cased first argument of the command array at start."""
    nl = buf.find(b"\r\n", start)
    if buf[start:start + 1] != b"*":
        return buf[start:nl].split(b" ", 1)[0].upper()  # inline command
    nl2 = buf.find(b"\r\n", nl + 2)
    n = int(buf[nl + 3:nl2])
    return bytes(buf[nl2 + 2:nl2 + 2 + n]).upper()


class Faults:
    def __init__(self):
        self.lose_exec = 0
        self.lost = 0
        self.delay = 0.0
        self.hold_until = 0.0


def say(line):
    print(line, flush=True)


async def read_values(reader):
    """Yields (buf, values) after each read that completed RESP values;
    buf starts with them and loses them once the caller has relayed them."""
    buf = bytearray()
    while True:
        data = await reader.read(65536)
        if not data:
            return
        buf += data
        values = split_values(buf)
        if values:
            yield buf, values
            del buf[:values[-1][1]]


async def relay_commands(faults, reader, writer, pending):
    loop = asyncio.get_running_loop()
    async for buf, values in read_values(reader):
        for start, _end in values:
            pending.append(command_name(buf, start))
        wait = faults.hold_until - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        writer.write(bytes(buf[:values[-1][1]]))
        await writer.drain()


async def relay_replies(faults, reader, writer, pending):
    async for buf, values in read_values(reader):
        for start, _end in values:
            name = pending.popleft() if pending else b""
            if name == b"EXEC" and faults.lose_exec > 0:
                # The transaction has applied; the client never learns it.
                faults.lose_exec -= 1
                faults.lost += 1
                if start:
                    writer.write(bytes(buf[:start]))
                say("LOST EXEC %d" % faults.lost)
                return
        if faults.delay:
            await asyncio.sleep(faults.delay)
        writer.write(bytes(buf[:values[-1][1]]))
        await writer.drain()


async def serve(faults, upstream_port, creader, cwriter):
    try:
        ureader, uwriter = await asyncio.open_connection("127.0.0.1", upstream_port)
    except OSError:
        cwriter.close()
        return
    pending = collections.deque()
    tasks = [asyncio.ensure_future(relay_commands(faults, creader, uwriter, pending)),
             asyncio.ensure_future(relay_replies(faults, ureader, cwriter, pending))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except Exception:  # noqa: BLE001 - a broken pair just closes
        pass
    for t in tasks:
        t.cancel()
    for w in (cwriter, uwriter):
        w.close()


def control(faults, line, loop):
    words = line.split()
    try:
        if words[0] == "lose-exec" and len(words) == 2:
            faults.lose_exec += int(words[1])
        elif words[0] == "delay" and len(words) == 2:
            faults.delay = int(words[1]) / 1000.0
        elif words[0] == "hold" and len(words) == 2:
            faults.hold_until = loop.time() + int(words[1]) / 1000.0
        else:
            raise ValueError
    except (ValueError, IndexError):
        say("PROXY error %s" % line)
        return
    say("PROXY ok %s" % line)


def read_control(path, faults, loop):
    # Reopened after each writer: a FIFO reports EOF when its writer closes.
    while True:
        with open(path) as f:
            for line in f:
                if line.strip():
                    loop.call_soon_threadsafe(control, faults, line.strip(), loop)


async def main():
    listen, upstream, fifo = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    faults = Faults()
    loop = asyncio.get_running_loop()
    threading.Thread(target=read_control, args=(fifo, faults, loop), daemon=True).start()
    server = await asyncio.start_server(lambda r, w: serve(faults, upstream, r, w),
                                        "127.0.0.1", listen)
    say("READY")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(main())
