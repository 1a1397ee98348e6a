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

check() {
    report_json "$CFG" S1 2026-03-10 || return 1
    python3 "$CSM_TESTS/integration/pipeline_figures.py" "$CSM_TMP/S1.json"
}
wait_for check "the expected figures"
log "figures as expected"

# The board's aftersale_seekers counts only seekings inside the window (data/seekers.jsonl).
check_seekers() {
    report_json "$CFG" S2 2026-03-10 || return 1
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
