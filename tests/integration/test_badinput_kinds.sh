#!/usr/bin/env bash
# Bad input through Kafka, one message of each kind (tests/tools/
# badinput_kinds.py: truncated at every field boundary, bad varints,
# string lengths, union and enum indexes, framing, schema ids, contract,
# event time, ids, an oversized message), interleaved with good events
# and duplicates of them. Every bad message must be in the dead-letter
# topic exactly once, with its original topic/partition/offset, its bytes
# and a reason saying what is wrong; nothing else may be there; the good
# events' counters must be exact.
source "$(dirname "$0")/lib.sh"
csm_setup
start_redis
start_broker 4
CFG=$CSM_TMP/csmetrics.yaml
KAFKA="  framing: confluent
  schema_ids:
    1: chat
    2: order"
# Writer schemas by id (badinput_kinds.py writes them): each one ours
# cannot read, and an id with no file, is a dead letter saying why.
SCHEMAS="schema_registry:
  dir: $CSM_TMP/gen/schemas.d"
write_config "$CFG" "$REDIS_PORT" "  idle_advance: 1s" "$KAFKA" "$SCHEMAS"
# The producer must be able to send the 1.2 MB message (librdkafka's
# default message.max.bytes is 1 MB); `run` keeps its defaults.
PCFG=$CSM_TMP/produce.yaml
write_config "$PCFG" "$REDIS_PORT" "  idle_advance: 1s" "$KAFKA
  properties:
    message.max.bytes: \"2000000\""

python3 "$CSM_TESTS/tools/badinput_kinds.py" "$CSM_TMP/gen" >&2
"$CSM_BIN" produce -c "$PCFG" "$CSM_TMP/gen/input.jsonl" >"$CSM_TMP/produce.log" 2>&1 ||
    fail "produce failed: $(cat "$CSM_TMP/produce.log")"
# Where each message landed: the dead letters must name exactly that.
for t in chat order; do
    "$CSM_DLQ_DUMP" --raw "$BOOTSTRAP" "cs.$t.events" >"$CSM_TMP/in-$t.txt" ||
        fail "cannot read cs.$t.events"
done
n_bad=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["cases"]))' \
    "$CSM_TMP/gen/cases.json")
start_run "$CFG" run

dlq_complete() {
    "$CSM_DLQ_DUMP" "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq.txt" 2>/dev/null &&
        [[ $(wc -l <"$CSM_TMP/dlq.txt") -ge $n_bad ]]
}
report() {
    "$CSM_BIN" report -c "$CFG" --shop S1 --day "$1" --agents --json >"$CSM_TMP/report.json" \
        2>"$CSM_TMP/report.log"
}
# Counters as derived in badinput_kinds.py (good_events).
counted() {
    local day
    day=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["day"])' \
        "$CSM_TMP/gen/cases.json")
    report "$day" && python3 - "$CSM_TMP/gen/cases.json" "$CSM_TMP/report.json" <<'PY'
import json, sys
want = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
d = d[0] if isinstance(d, list) else d
b = d["board"]
got = {k: b.get(k) for k in want["board"]}
a1 = d.get("agents", {}).get("a1", {}).get("assigned")
if got != want["board"] or a1 != want["agent_assigned"]:
    print("counters: %r, agent a1 assigned %r" % (got, a1), file=sys.stderr)
    sys.exit(1)
PY
}
wait_until 90 dlq_complete || fail "expected $n_bad dead letters, got $(wc -l <"$CSM_TMP/dlq.txt")"
wait_until 60 counted || fail "the good events' counters are not exact"
stop_run 10
"$CSM_DLQ_DUMP" --raw "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq-raw.txt"

python3 - "$CSM_TMP" <<'PY'
import json, os, re, sys
tmp = sys.argv[1]
cases = json.load(open(os.path.join(tmp, "gen", "cases.json")))["cases"]

def rows(path):
    with open(path) as f:
        return [l.rstrip("\n").split("\t") for l in f]

# Input messages by bytes: every case's bytes are unique (the generator checks).
where = {}
for t in ("chat", "order"):
    for part, off, key, value, *_ in rows(os.path.join(tmp, "in-%s.txt" % t)):
        where.setdefault((t, value), []).append((part, off))
errors = []
expected = {}
for c in cases:
    at = where.get((c["stream"], c["hex"]), [])
    if len(at) != 1:
        errors.append("%s: sent %d times to cs.%s.events" % (c["name"], len(at), c["stream"]))
        continue
    expected[("cs.%s.events" % c["stream"],) + at[0]] = c
seen = set()
for part, off, key, value, topic, opart, ooff, reason, truncated in rows(
        os.path.join(tmp, "dlq-raw.txt")):
    k = (topic, opart, ooff)
    c = expected.get(k)
    if c is None:
        errors.append("unexpected dead letter %s/%s/%s: %s" % (topic, opart, ooff, reason))
        continue
    if k in seen:
        errors.append("%s: dead-lettered twice" % c["name"])
    seen.add(k)
    if not re.search(c["expect"], reason):
        errors.append("%s: reason %r, want %r" % (c["name"], reason, c["expect"]))
    if key != c["key"]:
        errors.append("%s: key %r, want %r" % (c["name"], key, c["key"]))
    if c["truncated"]:
        if truncated == "-" or not c["hex"].startswith(value):
            errors.append("%s: want a prefix of the bytes flagged csm.truncated" % c["name"])
    elif value != c["hex"] or truncated != "-":
        errors.append("%s: the dead letter does not carry the original bytes" % c["name"])
for k, c in expected.items():
    if k not in seen:
        errors.append("%s: not dead-lettered (%s/%s/%s)" % ((c["name"],) + k))
if errors:
    sys.exit("\n".join(errors))
print("%d bad-input kinds dead-lettered with their place, bytes and reason" % len(cases),
      file=sys.stderr)
PY
log "PASS"
