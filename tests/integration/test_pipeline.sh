#!/usr/bin/env bash
# End to end: the events of data/pipeline.jsonl (figures derived by hand
# in its comments) go through the broker, `csmetrics run` and Redis, and
# `csmetrics report --json` shows them; SIGTERM ends the run with 0.
source "$(dirname "$0")/lib.sh"
csm_setup
start_redis
start_broker 4
CFG=$CSM_TMP/csmetrics.yaml
# A 1 s idle advance applies the last events of each partition (they wait
# allowed_lateness of event time) without more traffic.
# The data is dated 2026-03-10: a horizon of 10 years (the largest allowed) keeps it within
# pipeline.horizon until 2036.
write_config "$CFG" "$REDIS_PORT" "  idle_advance: 1s
  horizon: 3650d"

"$CSM_BIN" produce -c "$CFG" "$CSM_TESTS/integration/data/pipeline.jsonl" \
    >"$CSM_TMP/produce.log" 2>&1 || fail "produce failed: $(cat "$CSM_TMP/produce.log")"
start_run "$CFG" run

check() {
    "$CSM_BIN" report -c "$CFG" --shop S1 --day 2026-03-10 --json >"$CSM_TMP/report.json" \
        2>"$CSM_TMP/report.log" || return 1
    python3 - "$CSM_TMP/report.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
if isinstance(doc, list):
    doc = doc[0]
def hours(**h):
    v = [0] * 24
    for k, n in h.items():
        v[int(k[1:])] = n
    return v
want = {"sessions_started": 4, "human_requested": 3, "assigned": 3, "queue_ms_sum": 110000}
want_hourly = {"sessions_started": hours(h10=1, h11=1, h12=2),
               "human_requested": hours(h10=1, h11=1, h12=1)}
bad = []
for block in ("board", "allday"):
    b = doc.get(block) or {}
    for k, v in want.items():
        if b.get(k) != v:
            bad.append("%s.%s = %r, want %r" % (block, k, b.get(k), v))
    for k, v in want_hourly.items():
        got = (b.get("hourly") or {}).get(k)
        if got != v:
            bad.append("%s.hourly.%s = %r, want %r" % (block, k, got, v))
agents = doc.get("agents") or {}
for a, n in (("a1", 2), ("a2", 1)):
    got = (agents.get(a) or {}).get("assigned")
    if got != n:
        bad.append("agents.%s.assigned = %r, want %r" % (a, got, n))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
}
if ! wait_until 60 check 2>"$CSM_TMP/check.log"; then
    cat "$CSM_TMP/check.log" >&2
    fail "report never showed the expected figures"
fi
log "figures as expected"
stop_run 10

# Nothing in this scenario is bad input; the duplicate is dropped, not dead-lettered.
"$CSM_DLQ_DUMP" "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq.txt"
[[ ! -s $CSM_TMP/dlq.txt ]] || fail "unexpected dead letters: $(cat "$CSM_TMP/dlq.txt")"
grep -q "start: brokers=$BOOTSTRAP" "$CSM_TMP/run.log" || fail "no start line in the log"
log "PASS"
