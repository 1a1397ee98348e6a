#!/usr/bin/env bash
# Fault suite, SIGTERM: instances of one group are stopped by SIGTERM
# mid-stream, one after the other (ROUNDS, default 6, 20 with CSM_LONG=1).
# Each must exit 0 within 5 s (measured), after a final flush (its
# checkpoints advance by exactly the events it says it offered) and after
# leaving the group (librdkafka's group debug log shows the LeaveGroup
# answered; the time the next instance takes to join cannot show it: the
# mock coordinator makes a joiner wait session.timeout.ms - 1 s even
# after the last member left). Redis and the alerts topic must then equal
# an uninterrupted run's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"
csm_setup
if [[ $CSM_LONG == 1 ]]; then
    ROUNDS=${ROUNDS:-20} SESSIONS=${SESSIONS:-24000}
else
    ROUNDS=${ROUNDS:-6} SESSIONS=${SESSIONS:-16000}
fi
T_START=$SECONDS
fault_stream "$SESSIONS" 4 16
reference_run

start_redis run
# The proxy in front of Redis relays every reply REDIS_DELAY_MS late
# (default 20): with flushes of at most 500 events that paces the daemon to
# about 12 k events/s, so that every SIGTERM lands mid-stream (unpaced, the
# daemon reads the whole stream in about a second and a round can find it
# over). A larger value tries SIGTERM with a slow Redis.
port=$REDIS_PORT_run
if ((${REDIS_DELAY_MS:-20} > 0)); then
    start_proxy "$REDIS_PORT_run"
    proxy_ctl "delay ${REDIS_DELAY_MS:-20}"
    port=$PROXY_PORT
fi
fault_config run "$port"
sed -i 's/^    heartbeat.interval.ms: .*/&\n    debug: "cgrp"/; s/^  level: info/  level: debug/' "$CSM_TMP/run.yaml"

# consumed PORT: chat + order messages checkpointed.
consumed() { echo $(($(ckpt_sum "$1" chat_offset) + $(ckpt_sum "$1" order_offset))); }
max_ms=0
for ((k = 1; k <= ROUNDS + 1; k++)); do
    before=$(consumed "$REDIS_PORT_run")
    t0=$SECONDS
    start_run "$CSM_TMP/run.yaml" "run-$k"
    assigned() { grep -q "partition numbers owned" "$CSM_TMP/run-$k.log"; }
    wait_until 20 assigned || fail "round $k: not assigned within 20 s"
    joined_s=$((SECONDS - t0))
    if ((k <= ROUNDS)); then
        # Half the stream: an instance may consume a fifth of it before
        # the test sees it assigned.
        wait_progress "$REDIS_PORT_run" $((CHAT / 2 * k / ROUNDS)) 120 || fail "round $k: no progress"
        (($(progress "$REDIS_PORT_run") < CHAT)) || fail "round $k: the stream was over"
    else
        # The last round stops an instance that has consumed everything.
        wait_until 300 consumed_all "$REDIS_PORT_run" "$CHAT" "$ORDER" || fail "the stream was not consumed"
        sleep 2
    fi
    term_within "$RUN_PID" 5
    ((TERM_MS > max_ms)) && max_ms=$TERM_MS
    offered=$(sed -n 's/.*stopped: \([0-9]*\) events offered.*/\1/p' "$CSM_TMP/run-$k.log")
    after=$(consumed "$REDIS_PORT_run")
    [[ -n $offered ]] || fail "round $k: no 'stopped' line"
    ((after - before == offered)) ||
        fail "round $k: checkpoints advanced by $((after - before)), but $offered events were offered"
    grep -q "LeaveGroup response received" "$CSM_TMP/run-$k.log" ||
        fail "round $k: the instance did not leave the group"
    log "round $k: joined in ${joined_s} s, offered $offered, exit 0 in $TERM_MS ms"
done

compare_with_reference "$REDIS_PORT_run"
log "PASS (seed $SEED; $CHAT+$ORDER events; $((ROUNDS + 1)) SIGTERMs, slowest exit $max_ms ms; $((SECONDS - T_START)) s)"
