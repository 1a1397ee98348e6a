#!/usr/bin/env bash
# Schema evolution end to end: the events of data/pipeline.jsonl (shop S1,
# figures derived by hand in its comments, checked by pipeline_figures.py)
# written by producers with four writer schemas that a schema registry
# (tests/tools/schema_registry.py, the Confluent REST shape) serves by id:
#   id 1  schemas/chat_event.avsc as it is (v1)        sessions A, C
#   id 2  data/evolution/chat_v2.avsc: + channel, + MsgKind LIVE_CARD, - group_id
#                                                       session B, and shop S3's LIVE_CARD message
#   id 3  data/evolution/chat_v3.avsc: - shop_id (incompatible)   two events of shop S9
#   id 4  data/evolution/chat_v4.avsc: v2 + device, first seen while the
#         registry is stopped                           session D
#   id 99 unknown to the registry                       one event of shop S9
# Expected: S1's figures are pipeline.jsonl's (the same as with every event
# in v1); S3 has the one session its LIVE_CARD message (read as OTHER)
# opens; the dead-letter topic holds exactly the two id-3 messages (reason
# "schema 3 incompatible: ...") and the id-99 one ("unknown schema id 99:
# ..."); while the registry is down, session D waits (its partition
# paused, /readyz 503 naming schema id 4), nothing is dead-lettered for it,
# and once the registry is back it is counted.
source "$(dirname "$0")/lib.sh"
csm_setup
start_redis
start_broker 4
EVO=$CSM_TESTS/integration/data/evolution
DATA=$CSM_TESTS/integration/data/pipeline.jsonl

# The registry's content: subject cs.chat.events-value, versions 1..4.
REG=$CSM_TMP/registry
mkdir -p "$REG/cs.chat.events-value"
cp "$CSM_SCHEMA_DIR/chat_event.avsc" "$REG/cs.chat.events-value/1-1.avsc"
cp "$EVO/chat_v2.avsc" "$REG/cs.chat.events-value/2-2.avsc"
cp "$EVO/chat_v3.avsc" "$REG/cs.chat.events-value/3-3.avsc"
cp "$EVO/chat_v4.avsc" "$REG/cs.chat.events-value/4-4.avsc"
start_registry "$REG"

CFG=$CSM_TMP/csmetrics.yaml
HTTP_PORT=$(free_port)
# Events are applied as soon as they arrive (allowed_lateness 0), and no
# partition's event time follows the wall clock (idle_advance 365d): the
# events of 2026-03-10 produced after a pause must not become late.
write_config "$CFG" "$REDIS_PORT" "  idle_advance: 365d
  allowed_lateness: 0s
  horizon: 3650d" "  framing: confluent" "schema_registry:
  url: $REGISTRY_URL
  retry_max: 1s
http:
  bind: 127.0.0.1
  port: $HTTP_PORT"

# customer C: pipeline.jsonl's chat lines of that customer, as JSON Lines.
lines_of() {
    python3 - "$DATA" "$@" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"):
        ev = json.loads(line)
        if ev["customer_id"] in sys.argv[2:]:
            print(line.rstrip("\n"))
PY
}
# produce_with SCHEMA_ID [WRITER_SCHEMA] < JSONL
produce_with() {
    local args=(--schema-id-chat "$1" --schema-id-order 10) # (no order events here)
    [[ -n ${2:-} ]] && args+=(--writer-schema-chat "$2")
    cat >"$CSM_TMP/in.jsonl"
    "$CSM_BIN" produce -c "$CFG" --framing confluent "${args[@]}" "$CSM_TMP/in.jsonl" \
        >>"$CSM_TMP/produce.log" 2>&1 || fail "produce (id $1) failed: $(cat "$CSM_TMP/produce.log")"
}

# Before the registry stops: A in v1, B in v2 (with a channel on its
# messages), S3's LIVE_CARD message in v2, S9's events in v3 and id 99.
lines_of c1 | produce_with 1
lines_of c2 | sed 's/"type": "MESSAGE"/"channel": "app", "type": "MESSAGE"/' |
    produce_with 2 "$EVO/chat_v2.avsc"
echo '{"stream": "chat", "event_id": "evo-s3-1", "platform": "TMALL", "shop_id": "S3", "customer_id": "k1", "ts": 1773113400000, "type": "MESSAGE", "sender": "CUSTOMER", "msg_kind": "LIVE_CARD", "channel": "mini-program"}' |
    produce_with 2 "$EVO/chat_v2.avsc"
printf '%s\n' \
    '{"stream": "chat", "event_id": "evo-s9-1", "platform": "JD", "shop_id": "S9", "customer_id": "k9", "ts": 1773113400000, "type": "MESSAGE", "sender": "CUSTOMER", "msg_kind": "TEXT"}' \
    '{"stream": "chat", "event_id": "evo-s9-2", "platform": "JD", "shop_id": "S9", "customer_id": "k9", "ts": 1773113401000, "type": "HUMAN_REQUESTED"}' |
    produce_with 3 "$EVO/chat_v3.avsc"
echo '{"stream": "chat", "event_id": "evo-s9-3", "platform": "JD", "shop_id": "S9", "customer_id": "k9", "ts": 1773113402000, "type": "MESSAGE", "sender": "CUSTOMER", "msg_kind": "TEXT"}' |
    produce_with 99 "$CSM_SCHEMA_DIR/chat_event.avsc"
start_run "$CFG" run

dlq() { "$CSM_DLQ_DUMP" "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq.txt" 2>/dev/null; }
dlq_has() { dlq && [[ $(wc -l <"$CSM_TMP/dlq.txt") -eq $1 ]]; }
board() { # SHOP FIELD=VALUE...
    local shop=$1
    shift
    board_is "$CFG" "$shop" 2026-03-10 "$@"
}
first_phase() {
    board S1 sessions_started=2 human_requested=2 assigned=2 queue_ms_sum=90000 &&
        board S3 sessions_started=1 && dlq_has 3
}
wait_for first_phase "sessions A, B, S3's session and three dead letters"
log "v1, v2 counted; v3 and id 99 dead-lettered"
python3 - "$CSM_TMP/dlq.txt" <<'PY' || fail "dead letters: $(cat "$CSM_TMP/dlq.txt")"
import sys
# <topic> TAB <partition> TAB <offset> TAB <reason> TAB <key>
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
def count(reason):
    return sum(1 for r in rows if r[0] == "cs.chat.events" and r[4] == "S9:k9"
               and r[3].startswith(reason))
got = (count("schema 3 incompatible: reader field shop_id has no default"),
       count("unknown schema id 99: "))
sys.exit(None if got == (2, 1) else "incompatible, unknown = %s, want (2, 1)" % (got,))
PY

# The registry stops; session C (id 1, fetched already) goes on, session
# D's id 4 cannot be fetched: its partition waits, nothing is lost.
stop_registry
lines_of c3 | produce_with 1
lines_of c4 | produce_with 4 "$EVO/chat_v4.avsc"
readyz_waits() {
    curl -s "http://127.0.0.1:$HTTP_PORT/readyz" >"$CSM_TMP/readyz.txt" || true
    grep -q "waiting for writer schema id 4" "$CSM_TMP/readyz.txt"
}
wait_for readyz_waits "/readyz naming schema id 4 while the registry is down"
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" >"$CSM_TMP/metrics.txt"
grep -Eq '^csmetrics_schema_waiting_partitions [1-9]' "$CSM_TMP/metrics.txt" ||
    fail "no waiting partition in /metrics: $(grep schema "$CSM_TMP/metrics.txt")"
grep -Eq '^csmetrics_schema_lookups_total\{outcome="unavailable"\} [1-9]' "$CSM_TMP/metrics.txt" ||
    fail "no unavailable lookup in /metrics"
sleep 3
dlq_has 3 || fail "dead letters while the registry was down: $(cat "$CSM_TMP/dlq.txt")"
board S1 human_requested=2 || fail "session D counted before its schema could be read"
log "registry down: session D waits, /readyz says why, nothing dead-lettered"

start_registry "$REG"
all_counted() {
    report_json "$CFG" S1 2026-03-10 &&
        python3 "$CSM_TESTS/integration/pipeline_figures.py" "$CSM_TMP/S1.json"
}
wait_for all_counted "pipeline.jsonl's figures once the registry is back"
ready() { curl -sf "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null; }
wait_for ready "/readyz 200 once the registry is back"
dlq_has 3 || fail "dead letters changed: $(cat "$CSM_TMP/dlq.txt")"
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" >"$CSM_TMP/metrics.txt"
for want in 'csmetrics_dead_letters_total{topic="cs.chat.events",reason="schema_incompatible"} 2' \
    'csmetrics_dead_letters_total{topic="cs.chat.events",reason="unknown_schema"} 1' \
    'csmetrics_schema_waiting_partitions 0'; do
    grep -qF "$want" "$CSM_TMP/metrics.txt" || fail "/metrics lacks: $want"
done
stop_run 10

# One verdict line per id and topic, and `config --schemas` agrees.
for want in "writer schema id 2 on cs.chat.events: compatible" \
    "writer schema id 3 on cs.chat.events: incompatible: reader field shop_id has no default" \
    "writer schema id 99: " "writer schema id 4 on cs.chat.events: compatible"; do
    grep -qF "$want" "$CSM_TMP/run.log" || fail "run log lacks: $want"
done
"$CSM_BIN" config -c "$CFG" --schemas >"$CSM_TMP/schemas.txt" 2>&1 ||
    fail "config --schemas failed: $(cat "$CSM_TMP/schemas.txt")"
python3 - "$CSM_TMP/schemas.txt" <<'PY' || fail "config --schemas: $(cat "$CSM_TMP/schemas.txt")"
import re, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"\s*(\d+)\s+(chat|order)\s+(compatible|incompatible)\b", line)
    if m:
        rows[(int(m.group(1)), m.group(2))] = m.group(3)
want = {(1, "chat"): "compatible", (2, "chat"): "compatible",
        (3, "chat"): "incompatible", (4, "chat"): "compatible"}
bad = {k: (rows.get(k), v) for k, v in want.items() if rows.get(k) != v}
sys.exit("got, want: %s" % bad if bad else None)
PY
log "PASS"
