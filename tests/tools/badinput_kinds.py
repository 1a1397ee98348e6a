#!/usr/bin/env python3
"""Writes the input of tests/integration/test_badinput_kinds.sh: good chat
events of shop S1 with their expected board counters, interleaved with
many distinct kinds of malformed or refused messages (raw Kafka values,
`csmetrics produce` raw lines) and duplicates of good events.

  badinput_kinds.py OUT_DIR

OUT_DIR/input.jsonl  the file for `csmetrics produce` (file order = send order)
OUT_DIR/schemas.d/   writer schemas by id (schema_registry.dir of the test)
OUT_DIR/cases.json   {"day", "board", "agent_assigned", "duplicates",
                      "cases": [{"name", "stream", "key", "hex",
                      "expect" (a regex), "truncated"}]}

The Kafka config of the test: Confluent framing, schema id 1 = chat and
2 = order pinned, OUT_DIR/schemas.d as the schema directory, default
pipeline settings (allowed_lateness 5 s, 7-day rule).
"""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import avro_events as av  # noqa: E402

CHAT_ID, ORDER_ID = 1, 2
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
INT64_MAX = 2**63 - 1
TS_WORDS = "out of range|ahead of the wall clock|older than the horizon"


def day_start_ms():
    """10:00 shop-local (Asia/Shanghai) two days ago: in the past, inside
    the assessment window and well within the 7-day rule."""
    day = (datetime.datetime.now(SHANGHAI) - datetime.timedelta(days=2)).date()
    t = datetime.datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)
    return day.isoformat(), int(t.timestamp() * 1000)


def good_events(base):
    """Six sessions of customers c1..c6, five minutes apart. Session i:
    customer message, human request 10 s later, assignment i*10 s after
    the request, an agent reply, closed by the agent at +300 s.
    Board of the day: sessions_started 6, human_requested 6, assigned 6,
    queue_ms_sum (10+20+30+40+50+60) s = 210 000 ms; agent a1: assigned 6
    (one ASSIGNED per session: a duplicate counted twice would make 7)."""
    evs = []
    for i in range(1, 7):
        t0 = base + (i - 1) * 300_000
        c = "c%d" % i
        common = {"stream": "chat", "platform": "DOUYIN", "shop_id": "S1", "customer_id": c}

        def ev(n, dt, **kw):
            return dict(common, event_id="g%d-%d" % (i, n), ts=t0 + dt, **kw)

        evs += [ev(1, 0, type="MESSAGE", sender="CUSTOMER", msg_kind="TEXT"),
                ev(2, 10_000, type="HUMAN_REQUESTED"),
                ev(3, 10_000 + i * 10_000, type="ASSIGNED", agent_id="a1"),
                ev(4, 90_000, type="MESSAGE", sender="AGENT", msg_kind="TEXT", agent_id="a1"),
                ev(5, 299_000, type="SESSION_CLOSED", reason="AGENT")]
    # The agent replies 90 s after the open, (80 - 10 i) s after the
    # assignment: first_resp_ms_sum (70+60+50+40+30+20) s = 270 000 ms.
    return evs, {"sessions_started": 6, "human_requested": 6, "assigned": 6,
                 "queue_ms_sum": 210_000, "first_resp_ms_sum": 270_000, "first_resp_n": 6}


def full_chat(n, ts):
    """A valid chat event with every field set, so every field has bytes."""
    return {"event_id": "bad-%02d" % n, "platform": "DOUYIN", "shop_id": "S1",
            "customer_id": "c1", "ts": ts, "type": "MESSAGE", "sender": "CUSTOMER",
            "msg_kind": "TEXT", "agent_id": "a1", "from_agent_id": "a0", "group_id": "g1",
            "entry": "PRODUCT_PAGE", "order_id": "o1", "intent": "refund", "stars": 5,
            "reason": "r"}


def full_order(n, ts):
    return {"event_id": "bad-%02d" % n, "platform": "DOUYIN", "shop_id": "S1",
            "customer_id": "c1", "ts": ts, "order_id": "o1", "type": "PAID",
            "amount_cents": 1999, "refund_id": "r1", "logistics_status": "ok"}


def replace_field(stream, ev, field, raw):
    """The record with one field's bytes replaced by raw."""
    return b"".join(raw if name == field else b for name, b in av.field_bytes(stream, ev))


def upto_field(stream, ev, count):
    """The record cut after its first count fields."""
    return b"".join(b for _, b in av.field_bytes(stream, ev)[:count])


def long_varint(nbytes):
    """A varint of nbytes bytes (continuation bit on all but the last)."""
    return b"\xff" * (nbytes - 1) + b"\x01"


class Cases:
    def __init__(self, base):
        self.base = base
        self.items = []

    def next_n(self):
        return len(self.items) + 1

    def add(self, name, body, expect, stream="chat", framing_id=None, truncated=False,
            where=None):
        """body: the Avro record bytes; framing_id: None = the stream's id,
        False = no framing (body sent as it is)."""
        if framing_id is None:
            framing_id = CHAT_ID if stream == "chat" else ORDER_ID
        value = body if framing_id is False else av.frame(body, framing_id)
        # Spread over the partitions of the six customers; placed cases
        # are about the partition of c1.
        key = "S1:c1" if where else "S1:c%d" % (len(self.items) % 6 + 1)
        self.items.append({"name": name, "stream": stream, "key": key, "hex": value.hex(),
                           "expect": expect, "truncated": truncated,
                           "where": where})

    def chat(self, **over):
        ev = full_chat(self.next_n(), self.base + 120_000)
        ev.update(over)
        return ev

    def order(self, **over):
        ev = full_order(self.next_n(), self.base + 120_000)
        ev.update(over)
        return ev


def byte_level(c):
    chat_fields = [f["name"] for f in av.load_schema("chat")["fields"]]
    order_fields = [f["name"] for f in av.load_schema("order")["fields"]]
    c.add("header only, no record", b"", "empty message")
    for k in range(1, len(chat_fields)):
        c.add("chat truncated after %s" % chat_fields[k - 1],
              upto_field("chat", c.chat(), k), "truncated Avro")
    for k in range(1, len(order_fields)):
        c.add("order truncated after %s" % order_fields[k - 1],
              upto_field("order", c.order(), k), "truncated Avro", stream="order")
    body = av.encode_record("chat", c.chat())
    c.add("truncated inside event_id", body[:4], "truncated Avro")
    ev = c.chat()
    ts_at = len(upto_field("chat", ev, 4))
    c.add("truncated inside the ts varint", av.encode_record("chat", ev)[:ts_at + 2],
          "truncated Avro")
    c.add("ts varint of 11 bytes", replace_field("chat", c.chat(), "ts", long_varint(11)),
          "varint longer than 10 bytes")
    c.add("string length varint of 11 bytes",
          replace_field("chat", c.chat(), "shop_id", long_varint(11) + b"S1"),
          "varint longer than 10 bytes")
    c.add("union index varint of 11 bytes",
          replace_field("chat", c.chat(), "sender", long_varint(11)),
          "varint longer than 10 bytes")
    c.add("enum index varint of 6 bytes",
          replace_field("chat", c.chat(), "platform", long_varint(6)),
          "varint longer than 5 bytes")
    c.add("int (stars) varint of 6 bytes",
          replace_field("chat", c.chat(), "stars", av.zigzag_varint(1) + long_varint(6)),
          "varint longer than 5 bytes")
    c.add("negative string length (event_id)",
          replace_field("chat", c.chat(), "event_id", av.zigzag_varint(-1)), "negative length")
    c.add("negative string length (shop_id)",
          replace_field("chat", c.chat(), "shop_id", av.zigzag_varint(-5) + b"S1"),
          "negative length")
    c.add("string length 2^40", replace_field("chat", c.chat(), "customer_id",
                                              av.zigzag_varint(2**40) + b"c1"), "truncated Avro")
    c.add("string length INT64_MAX", replace_field("chat", c.chat(), "group_id",
                                                   av.zigzag_varint(1) +
                                                   av.zigzag_varint(INT64_MAX)), "truncated Avro")
    for field, branch in (("sender", 2), ("agent_id", -1), ("stars", 7)):
        c.add("union branch %d for %s" % (branch, field),
              replace_field("chat", c.chat(), field, av.zigzag_varint(branch) + b"\x02"),
              "union branch %d" % branch)
    c.add("union branch 2 for amount_cents (order)",
          replace_field("order", c.order(), "amount_cents", av.zigzag_varint(2) + b"\x02"),
          "union branch 2", stream="order")
    for field, index, union in (("platform", 6, False), ("platform", -1, False),
                                ("type", 9, False), ("sender", 4, True),
                                ("msg_kind", 10, True), ("entry", 6, True)):
        raw = (av.zigzag_varint(1) if union else b"") + av.zigzag_varint(index)
        c.add("enum index %d for %s" % (index, field), replace_field("chat", c.chat(), field, raw),
              "bad enum value %d for field %s" % (index, field))
    c.add("enum index 14 for order type",
          replace_field("order", c.order(), "type", av.zigzag_varint(14)),
          "bad enum value 14 for field type", stream="order")
    body = av.encode_record("chat", c.chat())
    c.add("wrong magic byte 1", b"\x01" + av.frame(body, CHAT_ID)[1:], "not Confluent-framed",
          framing_id=False)
    c.add("plain Avro on a Confluent topic", av.encode_record("chat", c.chat()),
          "not Confluent-framed", framing_id=False)
    c.add("unknown schema id 999", av.encode_record("chat", c.chat()), "unknown schema id 999",
          framing_id=999)
    c.add("unknown schema id -1", av.encode_record("chat", c.chat()), "unknown schema id -1",
          framing_id=-1)
    c.add("short Confluent header (3 bytes)", b"\x00\x00\x00", "not Confluent-framed",
          framing_id=False)
    c.add("magic byte alone", b"\x00", "not Confluent-framed", framing_id=False)
    c.add("empty message", b"", "not Confluent-framed", framing_id=False)
    c.add("trailing garbage", av.encode_record("chat", c.chat()) + b"\xde\xad\xbe\xef",
          "4 bytes left after the record")
    c.add("one trailing zero byte", av.encode_record("chat", c.chat()) + b"\x00",
          "1 bytes left after the record")
    c.add("order record, order schema id, on the chat topic", av.encode_record("order", c.order()),
          "schema id 2 is the order schema, on the chat topic", framing_id=ORDER_ID)
    c.add("chat record, chat schema id, on the order topic", av.encode_record("chat", c.chat()),
          "schema id 1 is the chat schema, on the order topic", stream="order",
          framing_id=CHAT_ID)
    # Order bytes read as chat: type reads order_id's length 2 (HUMAN_REQUESTED),
    # then sender's union index reads 'o' = 0x6f, zigzag -56.
    c.add("order record under the chat schema id", av.encode_record("order", c.order()),
          "union branch -56 for field sender", framing_id=CHAT_ID)


def writer_schemas(c, out_dir):
    """Writer schemas that ours cannot read, each in the schema directory
    under its id, and an id with no file there: every message of them is a
    dead letter saying why, while the good events go on."""
    d = os.path.join(out_dir, "schemas.d")
    os.makedirs(d, exist_ok=True)
    chat = av.load_schema("chat")

    def with_fields(fields, **top):
        s = dict(chat, fields=fields, **top)
        return s

    def put(schema_id, text):
        with open(os.path.join(d, "%d.avsc" % schema_id), "w") as f:
            f.write(text)

    no_shop = [f for f in chat["fields"] if f["name"] != "shop_id"]
    put(5, json.dumps(with_fields(no_shop)))
    body = b"".join(b for name, b in av.field_bytes("chat", c.chat()) if name != "shop_id")
    c.add("writer schema without the required shop_id", body,
          "schema 5 incompatible: reader field shop_id has no default", framing_id=5)
    put(6, json.dumps(av.load_schema("order")))
    c.add("order writer schema id on the chat topic", av.encode_record("order", c.order()),
          "schema 6 incompatible: .*OrderEvent", framing_id=6)
    # A required string where ours has an optional int: no branch of ours
    # can hold it.
    stars_text = [dict(f, type="string") if f["name"] == "stars" else f for f in chat["fields"]]
    put(7, json.dumps(with_fields(stars_text)))
    body = b"".join(b if name != "stars" else av.string_bytes("five")
                    for name, b in av.field_bytes("chat", c.chat()))
    c.add("writer schema with stars as a string", body, "schema 7 incompatible: .*stars",
          framing_id=7)
    put(8, "{not json")
    c.add("writer schema file that is not JSON", av.encode_record("chat", c.chat()),
          "schema 8 incompatible: ", framing_id=8)
    c.add("schema id with no file in the schema directory", av.encode_record("chat", c.chat()),
          "unknown schema id 9: .*9\\.avsc", framing_id=9)


def contract(c):
    for field in ("event_id", "shop_id", "customer_id"):
        c.add("empty %s" % field, av.encode_record("chat", c.chat(**{field: ""})),
              "missing field %s" % field)
    c.add("order event without order_id", av.encode_record("order", c.order(order_id="")),
          "missing field order_id", stream="order")
    c.add("strings over 2048 bytes", av.encode_record("chat", c.chat(intent="i" * 3000)),
          "event too large")


def event_time(c, base):
    c1_close = base + 299_000
    c.add("ts 10 days before the partition's event time",
          av.encode_record("chat", c.chat(ts=base - 10 * 86_400_000)),
          "ms from the partition's event time", where=("after", "g1-5"))
    c.add("late: 60 s behind the partition's event time",
          av.encode_record("chat", c.chat(ts=c1_close - 60_000)), "late:",
          where=("after", "g1-5"))
    now = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    y2100 = int(datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc).timestamp() * 1000)
    for label, ts, where in (("ts 1, first in its partition", 1, ("first", None)),
                             ("ts 0", 0, None), ("ts -1", -1, None),
                             ("ts year 2100", y2100, None),
                             ("ts now + 8 days", now + 8 * 86_400_000, None),
                             ("ts INT64_MAX, last in its partition", INT64_MAX, ("last", None))):
        c.add(label, av.encode_record("chat", c.chat(ts=ts)), TS_WORDS, where=where)


def ids(c):
    for label, field, value in (("NUL inside event_id", "event_id", b"bad\x00x"),
                                ("NUL inside shop_id", "shop_id", b"S1\x00x"),
                                ("invalid UTF-8 in shop_id", "shop_id", b"S\xff1"),
                                ("invalid UTF-8 in customer_id", "customer_id", b"c\xc3("),
                                ("shop_id with }", "shop_id", b"X}:board:{Y"),
                                ("shop_id with {", "shop_id", b"{Y"),
                                ("event_id of 129 bytes", "event_id", b"e" * 129),
                                ("customer_id of 129 bytes", "customer_id", b"c" * 129)):
        c.add(label, av.encode_record("chat", c.chat(**{field: value})), "field %s:" % field)


def oversized(c):
    # 1.2 MB: more than the dead-letter topic accepts (message.max.bytes 1 MB).
    big = bytes(32 + (i * 7919) % 95 for i in range(1_200_000))
    c.add("1.2 MB message", av.encode_record("chat", c.chat(intent=big)), "event too large",
          truncated=True)


# (event, sent again after): right after its original, or after c1's
# close, 299 s later: a duplicate that were not recognised would be
# counted (agent a1 assigned 7) or dead-lettered as late.
DUPLICATES = (("g2-2", "g2-2"), ("g3-3", "g3-3"), ("g4-1", "g4-1"), ("g1-1", "g1-5"))


def interleave(good, cases):
    """File order: good events by ts, duplicates where DUPLICATES says, bad
    cases spread evenly, placed ones where they ask."""
    lines = [json.dumps(e) for e in good]
    by_id = {e["event_id"]: i for i, e in enumerate(good)}
    slots = [[] for _ in range(len(good) + 1)]  # slots[i]: after good event i-1
    spread = [c for c in cases if not c["where"]]
    for j, case in enumerate(spread):
        slots[1 + j * len(good) // len(spread)].append(case)
    for case in cases:
        if case["where"]:
            kind, ref = case["where"]
            slot = {"first": 0, "last": len(good)}.get(kind)
            slots[by_id[ref] + 1 if slot is None else slot].append(case)
    out = []
    for i in range(len(good) + 1):
        if i:
            out.append(lines[i - 1])
            out += [lines[by_id[d]] for d, after in DUPLICATES if after == good[i - 1]["event_id"]]
        out += [json.dumps({"stream": c["stream"], "raw_hex": c["hex"], "key": c["key"]})
                for c in slots[i]]
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    day, base = day_start_ms()
    good, board = good_events(base)
    os.makedirs(sys.argv[1], exist_ok=True)
    c = Cases(base)
    byte_level(c)
    contract(c)
    event_time(c, base)
    ids(c)
    oversized(c)
    writer_schemas(c, sys.argv[1])
    cases = c.items
    hexes = [x["hex"] for x in cases]
    assert len(set(hexes)) == len(hexes), "two cases send the same bytes"
    with open(os.path.join(sys.argv[1], "input.jsonl"), "w") as f:
        f.write("\n".join(interleave(good, cases)) + "\n")
    for x in cases:
        x.pop("where")
    with open(os.path.join(sys.argv[1], "cases.json"), "w") as f:
        json.dump({"day": day, "board": board, "cases": cases,
                   "duplicates": len(DUPLICATES),
                   "agent_assigned": 6}, f)
    print("%d bad-input kinds, %d good events, %d duplicates"
          % (len(cases), len(good), len(DUPLICATES)))


if __name__ == "__main__":
    main()
