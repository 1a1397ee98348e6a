#!/usr/bin/env bash
# Backpressure without loss: Redis stops answering (SIGSTOP) while events
# arrive; `run` logs the failure once, pauses, retries with backoff and,
# once Redis is back (SIGCONT), writes every figure exactly once.
source "$(dirname "$0")/lib.sh"
csm_setup
start_redis
REDIS_PID=${CSM_PIDS[-1]}
start_broker 4
CFG=$CSM_TMP/csmetrics.yaml
# The data is dated 2026-03-10: a horizon of 10 years (the largest allowed) keeps it within
# pipeline.horizon until 2036.
write_config "$CFG" "$REDIS_PORT" "  idle_advance: 1s
  horizon: 3650d"
sed -i 's/^  prefix: csm$/  prefix: csm\n  timeout: 300ms/' "$CFG"

start_run "$CFG" run
wait_until 30 grep -q 'run: assigned' "$CSM_TMP/run.log" || fail "no assignment"
kill -STOP "$REDIS_PID"
"$CSM_BIN" produce -c "$CFG" "$CSM_TESTS/integration/data/pipeline.jsonl" \
    >"$CSM_TMP/produce.log" 2>&1 || fail "produce failed"
wait_until 30 grep -q 'flush failed' "$CSM_TMP/run.log" || fail "no flush failure logged"
grep -q 'timed out after 300 ms (redis.timeout)' "$CSM_TMP/run.log" ||
    fail "the failure does not say it timed out: $(grep 'flush failed' "$CSM_TMP/run.log")"
sleep 3
kill -CONT "$REDIS_PID"
wait_until 30 grep -q 'flush succeeded after' "$CSM_TMP/run.log" || fail "no recovery logged"

board="csm:{S1}:board:2026-03-10"
figures() {
    [[ $(rcli "$REDIS_PORT" hget "$board" sessions_started) == 4 &&
        $(rcli "$REDIS_PORT" hget "$board" human_requested) == 3 &&
        $(rcli "$REDIS_PORT" hget "$board" assigned) == 3 &&
        $(rcli "$REDIS_PORT" hget "$board" queue_ms_sum) == 110000 ]]
}
wait_until 30 figures || fail "figures after recovery: $(rcli "$REDIS_PORT" hgetall "$board" | tr '\n' ' ')"
stop_run 10
[[ $(grep -c 'flush failed' "$CSM_TMP/run.log") -eq 1 ]] || fail "want one failure line per outage"
log "PASS"
