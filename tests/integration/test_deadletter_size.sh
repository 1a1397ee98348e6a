#!/usr/bin/env bash
# A dead letter too large for the dead-letter producer still lands: a
# 1.2 MB message and one whose value fits message.max.bytes (1 000 000,
# librdkafka's default) only without the key and the csm.* headers are
# undecodable among good events; both reach the dead-letter topic cut to
# fit, with csm.truncated giving the original length, their reason and
# topic/partition/offset; the good events are counted exactly and the
# checkpoint covers all seven messages.
source "$(dirname "$0")/lib.sh"
csm_setup
start_redis
start_broker 4
CFG=$CSM_TMP/csmetrics.yaml
write_config "$CFG" "$REDIS_PORT" "  idle_advance: 1s"
# Only the test's producer may send messages that large.
PRODUCE_CFG=$CSM_TMP/produce.yaml
write_config "$PRODUCE_CFG" "$REDIS_PORT" "  idle_advance: 1s" "  properties:
    message.max.bytes: 2000000"

BIG=1200000
JUST_OVER=999950
PYTHONPATH="$CSM_TESTS/integration" python3 - "$CSM_TMP/events.jsonl" "$BIG" "$JUST_OVER" <<'PY'
import json, sys
from chat_avro import chat, raw_line
out, big, just_over = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
T0 = 1773108000000  # 2026-03-10 10:00:00 +08:00, shop S1
def ev(i, dt, type_, **kw):
    d = {"stream": "chat", "event_id": "ds-%03d" % i, "platform": "DOUYIN", "shop_id": "S1",
         "customer_id": "c1", "ts": T0 + dt * 1000, "type": type_}
    d.update(kw)
    return json.dumps(d)
# A whole chat record followed by junk: "invalid Avro: N bytes left after the record".
def junk_after_record(total, i):
    rec = chat("ds-big-%d" % i, "S1", "c1", T0 + 20000, "MESSAGE", "CUSTOMER", "TEXT")
    return rec + b"\x01" * (total - len(rec))
lines = [
    ev(1, 0, "MESSAGE", sender="CUSTOMER", msg_kind="TEXT"),           # offset 0
    ev(2, 10, "HUMAN_REQUESTED"),                                      # 1
    raw_line(junk_after_record(big, 1), "S1:c1"),                      # 2
    ev(3, 40, "ASSIGNED", agent_id="a1"),                              # 3
    ev(4, 60, "MESSAGE", sender="AGENT", msg_kind="TEXT", agent_id="a1"),  # 4
    raw_line(junk_after_record(just_over, 2), "S1:c1"),                # 5
    ev(5, 300, "SESSION_CLOSED", reason="AGENT"),                      # 6
]
open(out, "w").write("\n".join(lines) + "\n")
# The reasons, as the decoder words them.
recs = [len(chat("ds-big-%d" % i, "S1", "c1", T0 + 20000, "MESSAGE", "CUSTOMER", "TEXT"))
        for i in (1, 2)]
open(out + ".reasons", "w").write("invalid Avro: %d bytes left after the record\n" % (big - recs[0]) +
                                  "invalid Avro: %d bytes left after the record\n" % (just_over - recs[1]))
PY
produce_file "$PRODUCE_CFG" "$CSM_TMP/events.jsonl" 7
start_run "$CFG" run

wait_until 60 consumed_all "$REDIS_PORT" 7 0 || fail "checkpoints never reached 7 chat messages"
wait_until 60 board_is "$CFG" S1 2026-03-10 sessions_started=1 human_requested=1 assigned=1 \
    queue_ms_sum=30000 || fail "the good events were not counted exactly"
stop_run 10

"$CSM_DLQ_DUMP" --full "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq.txt"
log "dead letters (topic partition offset reason key truncated length):"
cat "$CSM_TMP/dlq.txt" >&2
python3 - "$CSM_TMP/dlq.txt" "$CSM_TMP/events.jsonl.reasons" "$BIG" "$JUST_OVER" <<'PY'
import sys
rows = sorted((l.rstrip("\n").split("\t") for l in open(sys.argv[1])), key=lambda r: int(r[2]))
reasons = open(sys.argv[2]).read().splitlines()
big, just_over = int(sys.argv[3]), int(sys.argv[4])
if len(rows) != 2:
    sys.exit("want 2 dead letters, got %d" % len(rows))
part = rows[0][1]
for (topic, p, off, reason, key, cut, length), want_off, want_reason, orig in zip(
        rows, ("2", "5"), reasons, (big, just_over)):
    if (topic, p, off, reason, key, cut) != ("cs.chat.events", part, want_off, want_reason,
                                             "S1:c1", str(orig)):
        sys.exit("bad dead letter: %r" % [topic, p, off, reason, key, cut])
    # cut to what the producer's 1 000 000 bytes leave after key and headers
    if not 990000 < int(length) < 1000000:
        sys.exit("value cut to %s bytes" % length)
PY
grep -q 'stopped: 7 events offered, 2 dead letters (2 delivered, 2 truncated)' "$CSM_TMP/run.log" ||
    fail "stop line: $(grep 'stopped:' "$CSM_TMP/run.log")"
[[ $(grep -c 'sent truncated to' "$CSM_TMP/run.log") -eq 2 ]] ||
    fail "want one WARN line per truncated dead letter"
log "PASS"
