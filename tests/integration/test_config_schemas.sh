#!/usr/bin/env bash
# `csmetrics config -c FILE --schemas` against the test schema registry and
# a directory of <id>.avsc: every id once (pinned, then directory, then
# registry), sorted, with its verdict on its stream (an id of the chat
# record says nothing of the order stream; one of neither is shown against
# both); --json the same; a registry that does not answer is an error
# naming it.
#   registry cs.chat.events-value  v1 id 21: the reader schema itself
#                                  v2 id 22: + channel (default ""), - intent
#                                  v3 id 23: - shop_id (required): incompatible
#   registry cs.order.events-value v1 id 30: also dir/30.avsc (the dir wins)
#   dir 30.avsc: the order reader schema; 31.avsc: a record csmetrics.Parcel
#   kafka.schema_ids {17: chat}
source "$(dirname "$0")/lib.sh"
csm_setup
BOOTSTRAP=127.0.0.1:9 # nothing here connects to Kafka or Redis

REG=$CSM_TMP/registry
DIR=$CSM_TMP/avsc
mkdir -p "$REG/cs.chat.events-value" "$REG/cs.order.events-value" "$DIR"
python3 - "$CSM_SCHEMA_DIR" "$REG" "$DIR" <<'EOF'
import copy, json, sys
schemas, reg, d = sys.argv[1:]
chat = json.load(open(f"{schemas}/chat_event.avsc"))
order = open(f"{schemas}/order_event.avsc").read()
def write(path, schema):
    with open(path, "w") as f:
        f.write(schema if isinstance(schema, str) else json.dumps(schema))
v2 = copy.deepcopy(chat)
v2["fields"] = [f for f in v2["fields"] if f["name"] != "intent"]
v2["fields"].append({"name": "channel", "type": "string", "default": ""})
v3 = copy.deepcopy(chat)
v3["fields"] = [f for f in v3["fields"] if f["name"] != "shop_id"]
write(f"{reg}/cs.chat.events-value/1-21.avsc", chat)
write(f"{reg}/cs.chat.events-value/2-22.avsc", v2)
write(f"{reg}/cs.chat.events-value/3-23.avsc", v3)
write(f"{reg}/cs.order.events-value/1-30.avsc", order)
write(f"{d}/30.avsc", order)
write(f"{d}/31.avsc", {"type": "record", "name": "Parcel", "namespace": "csmetrics",
                       "fields": [{"name": "parcel_id", "type": "string"}]})
EOF
start_registry "$REG"

CFG=$CSM_TMP/csmetrics.yaml
write_config "$CFG" 6379 "" "  schema_ids: {17: chat}" \
    "schema_registry: {url: \"$REGISTRY_URL\", dir: \"$DIR\"}"
OUT=$CSM_TMP/schemas.out
"$CSM_BIN" config -c "$CFG" --schemas >"$OUT" 2>"$CSM_TMP/schemas.log" ||
    fail "config --schemas failed: $(cat "$CSM_TMP/schemas.log")"
cat "$OUT" >&2

# line N: the Nth line of the output.
line() { sed -n "${1}p" "$OUT"; }
# exact N TEXT / starts N PREFIX / has N TEXT
exact() { [[ $(line "$1") == "$2" ]] || fail "line $1 is '$(line "$1")', not '$2'"; }
starts() { [[ $(line "$1") == "$2"* ]] || fail "line $1 '$(line "$1")' does not start '$2'"; }
has() { [[ $(line "$1") == *"$2"* ]] || fail "line $1 '$(line "$1")' lacks '$2'"; }

[[ $(wc -l <"$OUT") -eq 7 ]] || fail "expected 7 lines (5 ids of one stream, 1 of none x 2)"
exact 1 "17  chat   compatible    kafka.schema_ids"
exact 2 "21  chat   compatible    subject cs.chat.events-value version 1"
starts 3 "22  chat   compatible    subject cs.chat.events-value version 2  ("
has 3 "writer field channel skipped"
has 3 "reader field intent absent: default null"
starts 4 "23  chat   incompatible  subject cs.chat.events-value version 3: "
has 4 "reader field shop_id has no default"
exact 5 "30  order  compatible    $DIR/30.avsc"
exact 6 "31  chat   incompatible  $DIR/31.avsc: writer record csmetrics.Parcel is not csmetrics.ChatEvent"
exact 7 "31  order  incompatible  $DIR/31.avsc: writer record csmetrics.Parcel is not csmetrics.OrderEvent"

"$CSM_BIN" config -c "$CFG" --schemas --json >"$CSM_TMP/schemas.json" ||
    fail "config --schemas --json failed"
python3 - "$CSM_TMP/schemas.json" "$DIR" <<'EOF' || fail "--json differs from the text"
import json, sys
doc = json.load(open(sys.argv[1]))
got = [(s["id"], s["stream"], s["where"], s["compatible"]) for s in doc["schemas"]]
chat = "subject cs.chat.events-value version"
want = [(17, "chat", "kafka.schema_ids", True), (21, "chat", f"{chat} 1", True),
        (22, "chat", f"{chat} 2", True), (23, "chat", f"{chat} 3", False),
        (30, "order", f"{sys.argv[2]}/30.avsc", True),
        (31, "chat", f"{sys.argv[2]}/31.avsc", False),
        (31, "order", f"{sys.argv[2]}/31.avsc", False)]
assert got == want, got
assert "writer field channel skipped" in doc["schemas"][2]["why"], doc["schemas"][2]
assert doc["schemas"][0]["why"] == "" and doc["schemas"][4]["why"] == ""
EOF

# The registry down: an error that names it, exit status 1.
stop_registry
rc=0
"$CSM_BIN" config -c "$CFG" --schemas >"$OUT" 2>"$CSM_TMP/down.log" || rc=$?
[[ $rc -eq 1 ]] || fail "registry down: exit status $rc, not 1"
grep -qF "$CFG: schema_registry: $REGISTRY_URL: " "$CSM_TMP/down.log" &&
    grep -qF "Couldn't connect to server" "$CSM_TMP/down.log" ||
    fail "registry down: $(cat "$CSM_TMP/down.log")"
[[ ! -s $OUT ]] || fail "registry down: something was printed: $(cat "$OUT")"

# --schemas without -c, and --json alone: usage errors.
rc=0
"$CSM_BIN" config --schemas 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || fail "config --schemas without -c: exit status $rc, not 2"
rc=0
"$CSM_BIN" config -c "$CFG" --json 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || fail "config -c FILE --json: exit status $rc, not 2"
log "config --schemas: every id once, with its verdicts"
