#!/usr/bin/env python3
"""A TCP proxy in front of Redis that loses one EXEC reply.

It forwards every connection both ways, except once: the first time a
client sends a transaction that writes counters (HINCRBY ... EXEC), it
forwards it, waits until Redis has surely applied it, and then closes
both sides without passing the reply on: the client sees a dropped
connection although its transaction was applied. Later connections are
forwarded untouched.

usage: lose_exec_reply.py LISTEN_PORT REDIS_PORT
Prints "ready" once listening; "lost" when it has dropped the reply.
"""
import socket
import sys
import threading
import time

lost = threading.Event()


def pump(src, dst, watch, mute):
    """Copies src to dst until mute is set. With watch, sets mute when the
    first counter transaction goes out, so its reply never comes back."""
    seen = b""
    try:
        while True:
            data = src.recv(65536)
            if not data or mute.is_set():
                break
            seen += data
            if watch and not lost.is_set() and b"HINCRBY" in seen and b"\r\nEXEC\r\n" in seen:
                mute.set()
                dst.sendall(data)
                time.sleep(0.3)  # Redis applies the EXEC well within this
                lost.set()
                print("lost", flush=True)
                break
            if b"\r\nEXEC\r\n" in seen:
                seen = b""
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def serve(client, redis_port):
    upstream = socket.create_connection(("127.0.0.1", redis_port))
    watch = not lost.is_set()
    mute = threading.Event()
    threading.Thread(target=pump, args=(client, upstream, watch, mute), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, False, mute), daemon=True).start()


def main():
    listen_port, redis_port = int(sys.argv[1]), int(sys.argv[2])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(16)
    print("ready", flush=True)
    while True:
        client, _ = srv.accept()
        serve(client, redis_port)


if __name__ == "__main__":
    main()
