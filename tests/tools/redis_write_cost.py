#!/usr/bin/env python3
"""What a counter costs Redis, by the way it is written (docs/performance.md,
"What the Redis targets would need"). Starts its own redis-server on a free
loopback port and feeds it, with `redis-cli --pipe`, 200 000 increments of
fields of 500 shop hashes written three ways:

  multi  HINCRBY per counter inside MULTI/EXEC (what a flush sends today)
  lua    one EVAL per 20 000 counters that runs HINCRBY for each
  hset   HSET of many fields per hash (absolute values: needs one writer per hash)

and prints redis-server's user+system CPU per counter for each, over
--runs runs. CPU time, not wall time, so other load on the machine matters
little."""
import argparse
import os
import random
import socket
import subprocess
import tempfile
import time

N, CHUNK, SHOPS, FIELDS = 200_000, 20_000, 500, 50
LUA = ("local i=1 local n=#ARGV while i<=n do local k=ARGV[i] local c=tonumber(ARGV[i+1]) "
       "i=i+2 for j=1,c do redis.call('HINCRBY',k,ARGV[i],ARGV[i+1]) i=i+2 end end return 1")


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def by_key(ops):
    groups = {}
    for k, f, d in ops:
        groups.setdefault(k, []).append((f, d))
    return groups


def stream(mode, ops):
    out = []
    for i in range(0, N, CHUNK):
        chunk = ops[i:i + CHUNK]
        if mode == "multi":
            out.append(resp("MULTI"))
            out += [resp("HINCRBY", k, f, d) for k, f, d in chunk]
            out.append(resp("EXEC"))
        elif mode == "lua":
            args = []
            for k, fds in by_key(chunk).items():
                args += [k, len(fds)] + [x for fd in fds for x in fd]
            out.append(resp("EVAL", LUA, 0, *args))
        else:
            out.append(resp("MULTI"))
            for k, fds in by_key(chunk).items():
                out.append(resp("HSET", k, *[x for fd in fds for x in fd]))
            out.append(resp("EXEC"))
    return b"".join(out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port, *args, stdin=None):
    return subprocess.run(["redis-cli", "-p", str(port), *args], input=stdin,
                          capture_output=True, check=True).stdout.decode()


def cpu_seconds(port):
    info = cli(port, "INFO", "cpu")
    return sum(float(line.split(":")[1]) for line in info.splitlines()
               if line.startswith(("used_cpu_sys:", "used_cpu_user:")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    runs = ap.parse_args().runs
    rnd = random.Random(1)
    ops = [("csm:{shop%d}:board:2026-11-30" % rnd.randrange(SHOPS),
            "f%d" % rnd.randrange(FIELDS), rnd.randrange(1, 5)) for _ in range(N)]
    streams = {m: stream(m, ops) for m in ("multi", "lua", "hset")}
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "",
                                   "--appendonly", "no", "--dir", d],
                                  stdout=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    cli(port, "PING")
                    break
                except subprocess.CalledProcessError:
                    time.sleep(0.05)
            results = {m: [] for m in streams}
            for _ in range(runs):
                for m, data in streams.items():
                    cli(port, "FLUSHALL")
                    before = cpu_seconds(port)
                    cli(port, "--pipe", stdin=data)
                    results[m].append((cpu_seconds(port) - before) * 1e6 / N)
            for m, v in results.items():
                v.sort()
                print("%-5s %6.3f us of redis-server CPU per counter (median of %d; %.3f - %.3f)"
                      % (m, v[len(v) // 2], len(v), v[0], v[-1]))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
