#!/usr/bin/env bash
# Bad input never stops the pipeline: truncated Avro, an unknown schema id,
# a bad enum index, a timestamp beyond the 7-day rule and a late event all
# land in the dead-letter topic with their reason, and the good events
# around them are still counted.
source "$(dirname "$0")/lib.sh"
csm_setup
start_redis
start_broker 4
CFG=$CSM_TMP/csmetrics.yaml
# The data is dated 2026-03-10: a horizon of 10 years (the largest allowed) keeps it within
# pipeline.horizon until 2036.
write_config "$CFG" "$REDIS_PORT" "  idle_advance: 1s
  horizon: 3650d"
# Confluent framing so that an unknown schema id is an error, not plain Avro.
python3 - "$CFG" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read().replace("kafka:\n", "kafka:\n  framing: confluent\n  schema_ids:\n    1: chat\n    2: order\n", 1)
open(p, "w").write(s)
PY

"$CSM_BIN" produce -c "$CFG" "$CSM_TESTS/integration/data/badinput.jsonl" \
    >"$CSM_TMP/produce.log" 2>&1 || fail "produce failed: $(cat "$CSM_TMP/produce.log")"
start_run "$CFG" run

dlq_complete() {
    "$CSM_DLQ_DUMP" "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq.txt" 2>/dev/null &&
        [[ $(wc -l <"$CSM_TMP/dlq.txt") -ge 5 ]]
}
counted() {
    "$CSM_BIN" report -c "$CFG" --shop S1 --day 2026-03-10 --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d[0] if isinstance(d, list) else d
b = d["board"]
sys.exit(0 if (b.get("sessions_started"), b.get("human_requested"), b.get("assigned"),
               b.get("queue_ms_sum")) == (1, 1, 1, 30000) else 1)'
}
wait_until 60 dlq_complete || fail "expected 5 dead letters, got: $(cat "$CSM_TMP/dlq.txt" 2>/dev/null)"
wait_until 60 counted || fail "the good events were not counted"
stop_run 10
"$CSM_DLQ_DUMP" "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq.txt"
log "dead letters:"
cat "$CSM_TMP/dlq.txt" >&2

python3 - "$CSM_TMP/dlq.txt" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
if len(rows) != 5:
    sys.exit("want 5 dead letters, got %d" % len(rows))
for topic, part, off, reason, key in rows:
    if topic != "cs.chat.events" or not part.isdigit() or not off.isdigit() or key != "S1:c1":
        sys.exit("bad headers: %r" % [topic, part, off, reason, key])
reasons = " | ".join(r[3].lower() for r in rows)
for want in ("late:", "ms from the partition", "trunc", "999", "enum"):
    if want not in reasons:
        sys.exit("no reason mentions %r: %s" % (want, reasons))
PY
[[ $(grep -c 'deadletter: topic=cs.chat.events partition=' "$CSM_TMP/run.log") -eq 5 ]] ||
    fail "want one WARN line per dead letter"
log "PASS"
