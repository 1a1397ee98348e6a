#!/usr/bin/env python3
"""Deterministic dump of a Redis database for comparing two runs.

Every key except the checkpoints (their snapshots and seqs depend on how
often a run flushed), sorted; each with its type, whether it expires, and
its contents sorted (hash fields, set members, stream entries by their
fields but not their ids, which carry the wall clock).
Speaks RESP over a socket: the tests need no Redis client library.

usage: redis_dump.py PORT [DB]
"""
import socket
import sys


class Redis:
    def __init__(self, port, db=0):
        self.s = socket.create_connection(("127.0.0.1", int(port)))
        self.f = self.s.makefile("rb")
        if int(db):
            self.cmd("SELECT", str(db))

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.reply()

    def reply(self):
        line = self.f.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode("utf-8", "backslashreplace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)


def main():
    r = Redis(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else 0)
    keys, cursor = [], "0"
    while True:
        cursor, batch = r.cmd("SCAN", cursor, "COUNT", "1000")
        keys += batch
        if cursor == "0":
            break
    for k in sorted(set(keys)):
        if ":ckpt:" in k:
            continue
        t = r.cmd("TYPE", k)
        if t == "hash":
            kv = r.cmd("HGETALL", k)
            body = sorted("%s=%s" % (kv[i], kv[i + 1]) for i in range(0, len(kv), 2))
        elif t == "set":
            body = sorted(r.cmd("SMEMBERS", k))
        elif t == "string":
            body = [r.cmd("GET", k)]
        elif t == "zset":
            body = sorted(r.cmd("ZRANGE", k, "0", "-1", "WITHSCORES"))
        elif t == "list":
            body = r.cmd("LRANGE", k, "0", "-1")
        elif t == "stream":
            # Sorted: entries of different partitions interleave in the
            # order their flushes happened to run.
            body = sorted(" ".join(fields) for _id, fields in r.cmd("XRANGE", k, "-", "+"))
        else:
            body = ["<%s>" % t]
        ttl = r.cmd("TTL", k)
        print("%s %s %s" % (k, t, "expires" if ttl >= 0 else "ttl=%d" % ttl))
        for b in body:
            print("  " + b)


if __name__ == "__main__":
    main()
