#!/usr/bin/env bash
# Ids never become keys unchecked (docs/formats.md, "Ids"): through Kafka,
# a shop_id that would escape its Redis hash tag (X}:board:{Y), a NUL in
# shop_id, a NUL in the event_id of a HUMAN_REQUESTED whose prefix is an
# earlier event's id (once "a duplicate", silently dropped), ids that are
# not UTF-8 (a 0xFF byte, an overlong form, a surrogate) are each
# dead-lettered with a reason naming the field; the good events around
# them are counted exactly, and Redis holds no key but the expected ones.
# Two good events keyed other than <shop_id>:<customer_id> are counted
# and make the bad-key statistic 2, logged once for their partition.
source "$(dirname "$0")/lib.sh"
csm_setup
start_redis
start_broker 4
CFG=$CSM_TMP/csmetrics.yaml
write_config "$CFG" "$REDIS_PORT" "  idle_advance: 1s"

PYTHONPATH="$CSM_TESTS/integration" python3 - "$CSM_TMP/events.jsonl" <<'PY'
import sys
from chat_avro import chat, raw_line
T0 = 1773108000000  # 2026-03-10 10:00:00 +08:00
def at(s):
    return T0 + s * 1000
good = lambda eid, s, type_, **kw: raw_line(
    chat(eid, "S1", "c1", at(s), type_, **kw), "S1:c1")
lines = [
    good("id-001", 0, "MESSAGE", sender="CUSTOMER", msg_kind="TEXT"),
    good("id-002", 10, "HUMAN_REQUESTED"),
    # A HUMAN_REQUESTED whose event_id is id-001, a NUL, then more.
    raw_line(chat(b"id-001\0x", "S1", "c1", at(15), "HUMAN_REQUESTED"), "S1:c1"),
    raw_line(chat("id-010", "X}:board:{Y", "c1", at(16), "MESSAGE", "CUSTOMER", "TEXT"),
             "X}:board:{Y:c1"),
    raw_line(chat("id-011", b"S1\0evil", "c1", at(17), "MESSAGE", "CUSTOMER", "TEXT"), "S1:c1"),
    raw_line(chat("id-012", "S1", b"c\xff1", at(18), "MESSAGE", "CUSTOMER", "TEXT"), "S1:c1"),
    raw_line(chat("id-013", "S1", "c1", at(19), "ASSIGNED", agent_id=b"a\xc0\xaf"), "S1:c1"),
    raw_line(chat(b"\xed\xa0\x80", "S1", "c1", at(20), "MESSAGE", "CUSTOMER", "TEXT"), "S1:c1"),
    good("id-003", 40, "ASSIGNED", agent_id="a1"),
    good("id-004", 300, "SESSION_CLOSED", reason="AGENT"),
    # Customer c2 at 11:00, keyed "S1-c2": counted, and two bad keys.
    raw_line(chat("id-101", "S1", "c2", at(3600), "MESSAGE", "CUSTOMER", "TEXT"), "S1-c2"),
    raw_line(chat("id-102", "S1", "c2", at(3900), "SESSION_CLOSED", reason="CUSTOMER"), "S1-c2"),
]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
produce_file "$CFG" "$CSM_TMP/events.jsonl" 12
start_run "$CFG" run

# Two sessions (c1 at 10:00, c2 at 11:00); c1 asked for a human at 10:00:10
# and got a1 at 10:00:40. The dead-lettered HUMAN_REQUESTED/ASSIGNED count
# nothing.
wait_until 60 consumed_all "$REDIS_PORT" 12 0 || fail "checkpoints never reached 12 chat messages"
wait_until 60 board_is "$CFG" S1 2026-03-10 sessions_started=2 human_requested=1 assigned=1 \
    queue_ms_sum=30000 || fail "the good events were not counted exactly"
stop_run 10

"$CSM_DLQ_DUMP" "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq.txt"
log "dead letters:"
cat -v "$CSM_TMP/dlq.txt" >&2
python3 - "$CSM_TMP/dlq.txt" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="latin-1")]
got = sorted((r[4], r[3]) for r in rows if r[0] == "cs.chat.events")
want = sorted([("S1:c1", "field event_id: NUL byte at 6"),
               ("X}:board:{Y:c1", "field shop_id: '}' not allowed"),
               ("S1:c1", "field shop_id: NUL byte at 2"),
               ("S1:c1", "field customer_id: not valid UTF-8 at 1"),
               ("S1:c1", "field agent_id: not valid UTF-8 at 1"),
               ("S1:c1", "field event_id: not valid UTF-8 at 0")])
if len(rows) != 6 or got != want:
    sys.exit("dead letters %r, want %r" % (got, want))
PY

# Every key is the shop S1's, the shop list or a checkpoint (its hash, and
# its plugins' records and dedup log tagged with it).
rcli "$REDIS_PORT" --scan >"$CSM_TMP/keys.txt"
log "redis keys:"
cat -v "$CSM_TMP/keys.txt" >&2
python3 - "$CSM_TMP/keys.txt" <<'PY'
import re, sys
keys = open(sys.argv[1], encoding="latin-1").read().splitlines()
ok = re.compile(r"^csm:(\{S1\}:[0-9A-Za-z:._-]+|shops|ckpt:csm-it:[0-3]"
                r"|\{csm:ckpt:csm-it:[0-3]\}:(state:[a-z_]+|dedup|buffer))$")
bad = [k for k in keys if not ok.match(k)]
if bad or not any(k.startswith("csm:{S1}:board:") for k in keys):
    sys.exit("unexpected keys: %r" % bad)
PY
[[ $(rcli "$REDIS_PORT" smembers csm:shops) == S1 ]] || fail "csm:shops: $(rcli "$REDIS_PORT" smembers csm:shops)"

grep -q 'stopped: 12 events offered, 6 dead letters (6 delivered, 0 truncated), [0-9]* flushes, 2 bad keys' \
    "$CSM_TMP/run.log" || fail "stop line: $(grep 'stopped:' "$CSM_TMP/run.log")"
[[ $(grep -c "message key 'S1-c2' (5 bytes) is not <shop_id>:<customer_id>" "$CSM_TMP/run.log") -eq 1 ]] ||
    fail "want the bad key logged once"
log "PASS"
