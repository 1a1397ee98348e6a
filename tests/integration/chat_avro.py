"""Plain Avro binary of schemas/chat_event.avsc, written by hand so that a
test can put any bytes into a string field (a NUL, bytes that are not
UTF-8), and `csmetrics produce` raw lines carrying them."""
import json

PLATFORMS = ["DOUYIN", "TAOBAO", "TMALL", "PINDUODUO", "JD", "OTHER"]
TYPES = ["MESSAGE", "HUMAN_REQUESTED", "ASSIGNED", "TRANSFERRED", "OFFLINE_MESSAGE",
         "SESSION_CLOSED", "RATING_INVITED", "RATED", "AGENT_STATUS"]
SENDERS = ["CUSTOMER", "AGENT", "ROBOT", "SYSTEM"]
MSG_KINDS = ["TEXT", "IMAGE", "VIDEO", "EMOJI", "PRODUCT_CARD", "ORDER_CARD", "WELCOME",
             "AUTO_REPLY", "RATING_CARD", "OTHER"]


def long_(n):
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def string(b):
    b = b.encode() if isinstance(b, str) else b
    return long_(len(b)) + b


def optional(value, enc):
    return long_(0) if value is None else long_(1) + enc(value)


def chat(event_id, shop_id, customer_id, ts, type_, sender=None, msg_kind=None, agent_id=None,
         reason=None, platform="DOUYIN"):
    """One chat record; string arguments may be str or raw bytes."""
    return b"".join([
        string(event_id), long_(PLATFORMS.index(platform)), string(shop_id),
        string(customer_id), long_(ts), long_(TYPES.index(type_)),
        optional(sender, lambda s: long_(SENDERS.index(s))),
        optional(msg_kind, lambda s: long_(MSG_KINDS.index(s))),
        optional(agent_id, string), long_(0), long_(0),  # from_agent_id, group_id
        long_(0), long_(0), long_(0), long_(0),  # entry, order_id, intent, stars
        optional(reason, string)])


def raw_line(value, key, stream="chat"):
    """A `csmetrics produce` line sending these bytes as they are."""
    return json.dumps({"stream": stream, "raw_hex": value.hex(), "key": key})
