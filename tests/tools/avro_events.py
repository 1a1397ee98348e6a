"""Avro binary of events.md, written from the .avsc files of schemas/ with
nothing but the standard library, so tests can build exact bytes (good
ones, and bad ones field by field) without the program under test.

encode_record(stream, event) -> bytes of the record (plain framing);
frame(body, schema_id) -> Confluent framing (magic 0, big-endian id);
field_bytes(stream, event) -> [(field name, bytes)] in schema order, for
cutting a record at a field boundary or replacing one field's bytes.
"""
import json
import os
import struct

SCHEMA_FILES = {"chat": "chat_event.avsc", "order": "order_event.avsc"}


def schema_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("CSM_SCHEMA_DIR") or os.path.join(here, "..", "..", "schemas")


def load_schema(stream):
    with open(os.path.join(schema_dir(), SCHEMA_FILES[stream])) as f:
        return json.load(f)


def zigzag_varint(n):
    """Avro long/int: zigzag, then 7 bits a byte, low first."""
    z = (n << 1) ^ (n >> 63)
    z &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def string_bytes(s):
    raw = s if isinstance(s, bytes) else s.encode("utf-8")
    return zigzag_varint(len(raw)) + raw


def encode_value(schema, value):
    if isinstance(schema, list):  # union: ["null", X]
        if value is None:
            return zigzag_varint(schema.index("null"))
        branch = next(i for i, s in enumerate(schema) if s != "null")
        return zigzag_varint(branch) + encode_value(schema[branch], value)
    if isinstance(schema, dict) and schema.get("type") == "enum":
        return zigzag_varint(schema["symbols"].index(value))
    kind = schema["type"] if isinstance(schema, dict) else schema
    if kind in ("long", "int"):
        return zigzag_varint(int(value))
    if kind == "string":
        return string_bytes(value)
    raise ValueError("unsupported Avro type %r" % (schema,))


def field_bytes(stream, event):
    """The record as (field name, bytes) pairs in schema order."""
    return [(f["name"], encode_value(f["type"], event.get(f["name"])))
            for f in load_schema(stream)["fields"]]


def encode_record(stream, event):
    return b"".join(b for _, b in field_bytes(stream, event))


def frame(body, schema_id):
    return b"\x00" + struct.pack(">i", schema_id) + body
