#!/usr/bin/env python3
"""Rebuilds the seed corpus of the fuzz harnesses (corpus/<harness>/) from
the repository's own test data; the ckpt_load seeds come from the
ckpt_seeds tool of a fuzz build. Files named repro-* are inputs that
once found a bug: they stay.

  tests/fuzz/make_corpus.py BUILD_FUZZ_DIR
"""
import glob
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import avro_events  # noqa: E402

SCHEMA_ID = {"chat": 1, "order": 2}  # as fuzz_avro.c maps them
WRITER_V2_ID = 3  # fuzz_avro.c's writer schema other than ours
FRAMING = {"auto": 0, "confluent": 1, "plain": 2}
STREAM_BIT = {"chat": 0, "order": 1}
GOLDEN = os.path.join(ROOT, "tests", "golden")


def events(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                yield json.loads(line)


def put(dirname, name, data):
    os.makedirs(dirname, exist_ok=True)
    with open(os.path.join(dirname, name), "wb") as f:
        f.write(data)


def avro_seeds(out):
    """One event of every chat type and order type, in every framing."""
    seen = {}
    for path in sorted(glob.glob(os.path.join(GOLDEN, "*.jsonl"))):
        for ev in events(path):
            seen.setdefault((ev["stream"], ev["type"]), ev)
    for (stream, typ), ev in sorted(seen.items()):
        body = avro_events.encode_record(stream, ev)
        for framing, code in FRAMING.items():
            data = body if framing == "plain" else avro_events.frame(body, SCHEMA_ID[stream])
            prefix = bytes([STREAM_BIT[stream] | code << 1])
            put(out, "%s-%s-%s" % (stream, typ.lower(), framing), prefix + data)


def writer_v2_seeds(out):
    """A record of fuzz_avro.c's writer schema 3, on both topics."""
    z = avro_events.zigzag_varint

    def string(s):
        return z(len(s)) + s.encode()

    body = (string("e") + z(2) + string("s") + string("c")  # event_id, platform JD, shop, customer
            + z(1795140000) + z(1)  # ts (an int), type RATED
            + z(1) + z(0) + z(1) + z(5)  # msg_kind LIVE_CARD, stars 5
            + z(1) + z(1) + string("k") + z(7) + z(0))  # extra {"k": 7}
    for stream in ("chat", "order"):
        prefix = bytes([STREAM_BIT[stream] | FRAMING["confluent"] << 1])
        put(out, "writer_v2-%s-confluent" % stream, prefix + avro_events.frame(body, WRITER_V2_ID))


def json_seeds(out):
    for path in sorted(glob.glob(os.path.join(GOLDEN, "*.jsonl")))[::3]:
        with open(path, "rb") as f:
            put(out, os.path.basename(path), f.read())


EXAMPLE_CONFIG = b"""kafka:
  brokers: "127.0.0.1:9092"
  group_id: csmetrics
  chat_topic: cs.chat.events
  order_topic: cs.order.events
  deadletter_topic: cs.deadletter
  framing: confluent
  schema_ids:
    17: chat
    18: order
  properties:
    security.protocol: plaintext
redis:
  host: 127.0.0.1
  port: 6379
  db: 0
  prefix: csm
pipeline:
  allowed_lateness: 5s
  idle_advance: 1s
  flush_interval: 500ms
  flush_max_events: 1000
time:
  timezone: Asia/Shanghai
  window: "08:00-23:00"
  platform_windows:
    TAOBAO: "09:00-19:00"
shops:
  s-berlin:
    timezone: Europe/Berlin
    window: "09:00-19:00"
    satisfaction_target: "80%"
alerts:
  satisfaction_target: 0.8
http:
  bind: 127.0.0.1
  port: 0
log:
  level: info
plugins:
  - name: session
    idle_close: 15m
    max_open: 24h
  - sla
  - unserved
schema_registry:
  url: https://registry.internal:8081
  dir: /etc/csmetrics/schemas.d
  username: csmetrics
  password: secret
  ca_file: /etc/ssl/certs/ca.pem
  timeout: 2s
  retry_max: 10s
  cache_max: 500
"""


def config_seeds(out):
    for path in sorted(glob.glob(os.path.join(GOLDEN, "*.yaml"))):
        with open(path, "rb") as f:
            data = f.read()
        # Identical configs of different scenarios are one seed.
        put(out, "golden-" + hashlib.sha1(data).hexdigest()[:12] + ".yaml", data)
    put(out, "example.yaml", EXAMPLE_CONFIG)


def ckpt_load_seeds(out, build):
    tool = os.path.join(build, "tests", "fuzz", "ckpt_seeds")
    env = dict(os.environ, CSM_PLUGIN_PATH=os.path.join(build, "plugins"))
    for name, every in (("session_day_boundary", 3), ("sla_alerts", 4),
                        ("unserved_offline_alerts", 4), ("orders_refunds", 2),
                        ("fcr_repeat_window", 4), ("sbt_seven_day_rate", 6)):
        path = os.path.join(GOLDEN, name + ".jsonl")
        if os.path.exists(path):
            subprocess.run([tool, path, out, name, str(every)], env=env, check=True)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    corpus = os.path.join(HERE, "corpus")
    # repro-*: inputs that once crashed a harness; kept, never regenerated.
    for path in glob.glob(os.path.join(corpus, "*", "*")):
        if not os.path.basename(path).startswith("repro-"):
            os.remove(path)
    avro_seeds(os.path.join(corpus, "avro"))
    writer_v2_seeds(os.path.join(corpus, "avro"))
    json_seeds(os.path.join(corpus, "json"))
    config_seeds(os.path.join(corpus, "config"))
    os.makedirs(os.path.join(corpus, "ckpt_load"), exist_ok=True)
    ckpt_load_seeds(os.path.join(corpus, "ckpt_load"), os.path.abspath(sys.argv[1]))


if __name__ == "__main__":
    main()
