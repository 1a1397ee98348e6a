#!/usr/bin/env bash
# The flush overlaps with consuming (docs/architecture.md, "Flush"): one
# stream is consumed into Redis "ref" without hindrance, and into Redis
# "run" through tests/tools/redis_proxy.py, which relays every batch of
# replies REDIS_DELAY_MS late (default 150), so each flush (two round
# trips) takes at least twice that. The daemon must go on consuming while
# its flushes are in flight: it reports, for every flush written, how many
# events it offered between the cut and the outcome, and those must be
# most of the stream (a flush that held the loop would let none through).
# Figures and alerts must equal the reference run's: the overlap gives up
# nothing of exactly once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"
csm_setup
DELAY_MS=${REDIS_DELAY_MS:-150}
T_START=$SECONDS
fault_stream "${SESSIONS:-2000}" 2 4
reference_run

start_redis run
start_proxy "$REDIS_PORT_run"
proxy_ctl "delay $DELAY_MS"
fault_config run "$PROXY_PORT"
sed -i 's/^  level: info/  level: debug/' "$CSM_TMP/run.yaml"
start_run "$CSM_TMP/run.yaml" run
wait_until 300 consumed_all "$REDIS_PORT_run" "$CHAT" "$ORDER" ||
    fail "the run did not consume everything (seed $SEED)"
# The shop-day decisions after the stream are many small round trips, each
# as late as a flush's: with Redis at full speed again they are all made
# before the stop, as in the reference run. The flushes logged so far
# were all slowed down.
slow_flushes=$(grep -c 'run: flush: ' "$CSM_TMP/run.log" || true)
proxy_ctl "delay 0"
finish_run run "$REDIS_PORT_run"
compare_with_reference "$REDIS_PORT_run"

# "flush: N partitions in T ms (the cut held the loop H ms; E events
# offered meanwhile)", one line per flush written.
sed -n 's/.*run: flush: [0-9]* partitions in \([0-9.]*\) ms (the cut held the loop \([0-9.]*\) ms; \([0-9]*\) events offered meanwhile).*/\1 \2 \3/p' \
    "$CSM_TMP/run.log" | head -n "$slow_flushes" >"$CSM_TMP/flushes.txt"
flushes=$(wc -l <"$CSM_TMP/flushes.txt")
((flushes >= 10)) || fail "only $flushes flushes logged"
read -r fastest meanwhile held_max < <(awk 'NR == 1 || $1 < min { min = $1 }
    { sum += $3; if ($2 > held) held = $2 }
    END { printf "%d %d %.3f\n", min, sum, held }' "$CSM_TMP/flushes.txt")
offered=$(sed -n 's/.*stopped: \([0-9]*\) events offered.*/\1/p' "$CSM_TMP/run.log")
[[ -n $offered ]] || fail "no 'stopped' line"
# Every flush waited for the proxy twice: the flushes were slow.
((fastest >= 2 * DELAY_MS)) || fail "a flush took $fastest ms, less than two delayed round trips"
# A blocking flush would leave 0 here; the cut waits only for the previous
# flight, so nearly every event is taken while one is in flight.
((meanwhile * 2 >= offered)) ||
    fail "only $meanwhile of $offered events were offered while a flush was in flight"
log "PASS (seed $SEED; $CHAT+$ORDER events; $flushes flushes of >= $fastest ms; $meanwhile of $offered events offered during flushes; longest cut $held_max ms; $((SECONDS - T_START)) s)"
