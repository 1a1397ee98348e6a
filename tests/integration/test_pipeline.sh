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
    "$CSM_TESTS/integration/data/seekers.jsonl" \
    >"$CSM_TMP/produce.log" 2>&1 || fail "produce failed: $(cat "$CSM_TMP/produce.log")"
start_run "$CFG" run

# report_json SHOP: the shop's report of the day, one JSON object, in $CSM_TMP/SHOP.json.
report_json() {
    "$CSM_BIN" report -c "$CFG" --shop "$1" --day 2026-03-10 --json 2>"$CSM_TMP/report.log" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); json.dump(d[0] if isinstance(d, list) else d, sys.stdout)' \
            >"$CSM_TMP/$1.json" && [[ ${PIPESTATUS[0]} == 0 ]]
}

check() {
    report_json S1 || return 1
    python3 - "$CSM_TMP/S1.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
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
# wait_for CHECK WHAT: CHECK passes within 60 s, or the test fails naming WHAT.
wait_for() {
    if ! wait_until 60 "$1" 2>"$CSM_TMP/check.log"; then
        cat "$CSM_TMP/check.log" >&2
        fail "report never showed $2"
    fi
}
wait_for check "the expected figures"
log "figures as expected"

# The board's aftersale_seekers counts only seekings inside the window (data/seekers.jsonl).
check_seekers() {
    report_json S2 || return 1
    python3 - "$CSM_TMP/S2.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
want = {"board": {"aftersale_seekers": 1, "escalations": 1, "resolution_rate": 0.0},
        "allday": {"aftersale_seekers": 2, "escalations": 1, "resolution_rate": 0.5}}
bad = ["%s.%s = %r, want %r" % (blk, k, (doc.get(blk) or {}).get(k), v)
       for blk, fig in want.items() for k, v in fig.items() if (doc.get(blk) or {}).get(k) != v]
sys.exit("\n".join(bad) or None)
PY
}
wait_for check_seekers "the board's seekers"
"$CSM_BIN" report -c "$CFG" --shop S1 --day 2026-03-10 >"$CSM_TMP/report.txt" \
    || fail "text report failed"
grep -q "a 7-day satisfaction alert judges" "$CSM_TMP/report.txt" \
    || fail "the text report does not explain the shop-day alert: $(cat "$CSM_TMP/report.txt")"
log "seekers and the alert note as expected"
stop_run 10

# Nothing in this scenario is bad input; the duplicate is dropped, not dead-lettered.
"$CSM_DLQ_DUMP" "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq.txt"
[[ ! -s $CSM_TMP/dlq.txt ]] || fail "unexpected dead letters: $(cat "$CSM_TMP/dlq.txt")"
grep -q "start: brokers=$BOOTSTRAP" "$CSM_TMP/run.log" || fail "no start line in the log"
log "PASS"
