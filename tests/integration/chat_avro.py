"""Chat records with positional fields for the integration tests, as exact
Avro bytes (tests/tools/avro_events.py encodes from schemas/), so a test
can put any bytes into a string field (a NUL, bytes that are not UTF-8);
and `csmetrics produce` raw lines carrying them."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import avro_events  # noqa: E402


def chat(event_id, shop_id, customer_id, ts, type_, sender=None, msg_kind=None, agent_id=None,
         reason=None, platform="DOUYIN"):
    """One chat record; string arguments may be str or raw bytes."""
    return avro_events.encode_record("chat", {
        "event_id": event_id, "platform": platform, "shop_id": shop_id,
        "customer_id": customer_id, "ts": ts, "type": type_, "sender": sender,
        "msg_kind": msg_kind, "agent_id": agent_id, "reason": reason})


def raw_line(value, key, stream="chat"):
    """A `csmetrics produce` line sending these bytes as they are."""
    return json.dumps({"stream": stream, "raw_hex": value.hex(), "key": key})
