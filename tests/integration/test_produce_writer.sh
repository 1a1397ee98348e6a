#!/usr/bin/env bash
# `produce` and `gen` with a writer schema other than ours (docs/formats.md,
# "Writer schemas"): v2 of the chat schema adds the MsgKind symbol
# LIVE_CARD and a field channel (default "web") and drops intent. The
# messages on the topic must be the bytes the Avro specification gives for
# v2, derived by hand below, under the id given, keyed as always; the
# order stream, raw records and bad records go as without a writer schema.
source "$(dirname "$0")/lib.sh"
csm_setup
start_broker 2
CFG=$CSM_TMP/csmetrics.yaml
write_config "$CFG" 1 "" "  schema_ids:
    17: chat
    18: order"
V2=$CSM_TMP/chat_v2.avsc
python3 - "$CSM_SCHEMA_DIR/chat_event.avsc" "$V2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["fields"] = [f for f in s["fields"] if f["name"] != "intent"]
kind = next(f for f in s["fields"] if f["name"] == "msg_kind")
kind["type"][1]["symbols"].append("LIVE_CARD")
s["fields"].append({"name": "channel", "type": "string", "default": "web"})
json.dump(s, open(sys.argv[2], "w"))
PY

cat >"$CSM_TMP/in.jsonl" <<'EOF'
{"stream":"chat","event_id":"e1","platform":"JD","shop_id":"s1","customer_id":"c1","ts":1000,"type":"MESSAGE","sender":"CUSTOMER","msg_kind":"LIVE_CARD","intent":"x","channel":"app"}
{"stream":"chat","event_id":"e2","platform":"DOUYIN","shop_id":"s1","customer_id":"c2","ts":1,"type":"HUMAN_REQUESTED"}
{"stream":"chat","event_id":"e3","platform":"JD","customer_id":"c1","ts":1,"type":"MESSAGE"}
# a comment line is not a record
{"stream":"order","event_id":"o1e","platform":"TMALL","shop_id":"s2","customer_id":"c3","ts":2,"order_id":"o1","type":"PAID"}
{"stream":"chat","raw_hex":"00000000ff01","key":"k"}
{"stream":"chat","event_id":"e6","platform":"JD","shop_id":"s1","customer_id":"c1","ts":1,"type":"RATED","stars":"five"}
EOF

# The configured id 17 names our own schema: a writer schema needs its own.
if "$CSM_BIN" produce -c "$CFG" --writer-schema-chat "$V2" "$CSM_TMP/in.jsonl" \
    >"$CSM_TMP/noid.log" 2>&1; then
    fail "produce with a writer schema and no --schema-id-chat succeeded"
fi
grep -qF -- "--writer-schema-chat needs --schema-id-chat N (the configured id 17 names our own chat schema)" \
    "$CSM_TMP/noid.log" || fail "no id: $(cat "$CSM_TMP/noid.log")"
: >"$CSM_TMP/x.avro"
rc=0
"$CSM_BIN" produce -c "$CFG" --writer-schema-chat "$V2" --schema-id-chat 21 "$CSM_TMP/x.avro" \
    >"$CSM_TMP/avro.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] && grep -qF "take JSON Lines only" "$CSM_TMP/avro.log" ||
    fail "container input not refused: $(cat "$CSM_TMP/avro.log")"

rc=0
"$CSM_BIN" produce -c "$CFG" --writer-schema-chat "$V2" --schema-id-chat 21 "$CSM_TMP/in.jsonl" \
    >"$CSM_TMP/produce.out" 2>"$CSM_TMP/produce.log" || rc=$?
[[ $rc -eq 1 ]] || fail "produce exited $rc, want 1 (two records not sent)"
[[ $(cat "$CSM_TMP/produce.out") == "produced 4 events (chat 3, order 1); 1 of them raw records; 2 not delivered" ]] ||
    fail "produce said: $(cat "$CSM_TMP/produce.out")"
grep -v '^\[' "$CSM_TMP/produce.log" >"$CSM_TMP/reasons.txt" || true
diff -u - "$CSM_TMP/reasons.txt" <<'EOF' || fail "produce's reasons differ"
csmetrics produce: record 3 not sent: field shop_id: missing and no default
csmetrics produce: record 6 not sent: field stars: expected an int, got "five"
EOF

# Avro binary, field by field: strings a zig-zag varint length then the
# bytes ("e1" → 04 65 31), longs zig-zag varints (ts 1000 → d0 0f, 1 → 02),
# enums the symbol index (JD 4 → 08, LIVE_CARD 10 → 14), unions the branch
# then the value (null 00, the enum 02 …), after the Confluent prefix 00
# and the id (21 = 00000015, 18 = 00000012). v2's fields: event_id
# platform shop_id customer_id ts type sender msg_kind agent_id
# from_agent_id group_id entry order_id stars reason channel.
e1=$(printf %s 0000000015 046531 08 047331 046331 d00f 00 0200 0214 0000000000 0000 06617070)
# e2: HUMAN_REQUESTED 1 → 02; every optional field null; channel "web".
e2=$(printf %s 0000000015 046532 00 047331 046332 02 02 00 00 0000000000 0000 06776562)
# The order stream has no writer schema: ours, id 18 (TMALL 2, PAID 1).
o1=$(printf %s 0000000012 066f3165 04 047332 046333 04 046f31 02 00 00 00)
"$CSM_DLQ_DUMP" --raw "$BOOTSTRAP" cs.chat.events | cut -f3,4 | sort >"$CSM_TMP/chat.txt"
"$CSM_DLQ_DUMP" --raw "$BOOTSTRAP" cs.order.events | cut -f3,4 >"$CSM_TMP/order.txt"
printf 'k\t00000000ff01\ns1:c1\t%s\ns1:c2\t%s\n' "$e1" "$e2" | diff -u - "$CSM_TMP/chat.txt" ||
    fail "chat messages differ"
printf 's2:c3\t%s\n' "$o1" | diff -u - "$CSM_TMP/order.txt" || fail "order messages differ"

# gen: each generated chat event through v2 (channel absent: "web", the
# last field, 06 77 65 62), under id 21; orders under ours, id 18.
"$CSM_BIN" gen -c "$CFG" --kafka --writer-schema-chat "$V2" --schema-id-chat 21 --shops 1 --sessions 20 \
    --events 60 >"$CSM_TMP/gen.log" 2>&1 || fail "gen failed: $(cat "$CSM_TMP/gen.log")"
"$CSM_DLQ_DUMP" --raw "$BOOTSTRAP" cs.chat.events | cut -f4 >"$CSM_TMP/chat_all.txt"
"$CSM_DLQ_DUMP" --raw "$BOOTSTRAP" cs.order.events | cut -f4 >"$CSM_TMP/order_all.txt"
python3 - "$CSM_TMP/chat_all.txt" "$CSM_TMP/order_all.txt" "$e1" "$e2" "$o1" <<'PY'
import sys
chat = open(sys.argv[1]).read().split()
order = open(sys.argv[2]).read().split()
known = set(sys.argv[3:]) | {"00000000ff01"}
gen_chat = [v for v in chat if v not in known]
gen_order = [v for v in order if v not in known]
if len(gen_chat) + len(gen_order) != 60 or not gen_chat or not gen_order:
    sys.exit("gen wrote %d chat and %d order messages, want 60 in all, some of each"
             % (len(gen_chat), len(gen_order)))
bad = [v for v in gen_chat if not (v.startswith("0000000015") and v.endswith("06776562"))]
bad += [v for v in gen_order if not v.startswith("0000000012")]
if bad:
    sys.exit("not written as asked: %r" % bad[:3])
PY

# A writer schema the generated events do not fit stops gen, naming the
# event and the field.
python3 - "$V2" "$CSM_TMP/chat_v3.avsc" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["fields"][-1].pop("default")
json.dump(s, open(sys.argv[2], "w"))
PY
rc=0
"$CSM_BIN" gen -c "$CFG" --kafka --writer-schema-chat "$CSM_TMP/chat_v3.avsc" --schema-id-chat 22 \
    --shops 1 --sessions 20 --events 60 >"$CSM_TMP/gen3.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] && grep -qE "event g1-[0-9]+ not sent: field channel: missing and no default" \
    "$CSM_TMP/gen3.log" || fail "gen with v3 exited $rc: $(cat "$CSM_TMP/gen3.log")"
