#!/usr/bin/env bash
# Fault suite, kill -9 and instances coming and going: one stream consumed without interruption into
# Redis "ref", and into Redis "run" by instances that are
#   1. killed with SIGKILL KILLS times (default 30, 100 with CSM_LONG=1)
#      at moments spread over the first half of the stream;
#   2. 1 -> 3 -> 1 instances: two more join mid-stream, then leave by
#      SIGTERM (each exits 0 within 5 s).
# Redis and the alerts topic must then equal the reference run's.
# SESSIONS (default 27 000, ~200 000 events; 70 000 with CSM_LONG=1) sets
# the stream's size, SEED the stream and the moments.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"
csm_setup
if [[ $CSM_LONG == 1 ]]; then
    KILLS=${KILLS:-100} SESSIONS=${SESSIONS:-70000} PARTS=32
else
    KILLS=${KILLS:-30} SESSIONS=${SESSIONS:-27000} PARTS=16
fi
T_START=$SECONDS
fault_stream "$SESSIONS" 4 "$PARTS"
reference_run

start_redis run
# The instances reach Redis through the proxy: phase 2 slows the
# writes down so that the stream is still flowing while instances come
# and go (unslowed, the rest of it takes a second or two).
start_proxy "$REDIS_PORT_run"
fault_config run "$PROXY_PORT"
# Killed instances rejoin faster when the dead one's session ends sooner
# (2.5 s; with 1.5 s the mock coordinator never completed a join).
fault_config kill "$PROXY_PORT" "" 2500
sed -i "s/csm-kill/csm-run/; s/cs.alerts.kill/cs.alerts.run/" "$CSM_TMP/kill.yaml"

# 1. kill -9: kill k waits until k/KILLS of the first half of the chat
# events are checkpointed, plus a random 0-90 ms.
t0=$SECONDS
for ((k = 1; k <= KILLS; k++)); do
    target=$((CHAT / 2 * k / KILLS - (RANDOM % 500)))
    start_run "$CSM_TMP/kill.yaml" run-1
    wait_progress "$REDIS_PORT_run" "$target" 120 || fail "kill $k: no progress to $target"
    sleep "0.0$((RANDOM % 10))"
    kill -9 "$RUN_PID"
    wait "$RUN_PID" 2>/dev/null || true
    log "kill $k: chat $(progress "$REDIS_PORT_run")/$CHAT checkpointed"
done
log "phase 1: $KILLS kills in $((SECONDS - t0)) s"
proxy_ctl "delay 30"

# 2. 1 -> 3 -> 1: U and V join T, take partitions, write, leave.
start_run "$CSM_TMP/run.yaml" run-t
T_PID=$RUN_PID
wait_until 60 grep -q "partition numbers owned" "$CSM_TMP/run-t.log" || fail "T was never assigned"
start_run "$CSM_TMP/run.yaml" run-u
U_PID=$RUN_PID
start_run "$CSM_TMP/run.yaml" run-v
V_PID=$RUN_PID
joined() { grep -q "partition numbers owned" "$CSM_TMP/run-u.log" && grep -q "partition numbers owned" "$CSM_TMP/run-v.log"; }
wait_until 60 joined || fail "1->3: the new instances were never assigned"
at_three=$(progress "$REDIS_PORT_run")
((at_three < CHAT)) || fail "1->3: the stream was over before three instances ran"
wait_progress "$REDIS_PORT_run" $((at_three + 2000)) 120 || fail "1->3: no progress with three"
term_within "$U_PID" 5
u_ms=$TERM_MS
term_within "$V_PID" 5
log "phase 2: three instances from chat $at_three; SIGTERM exits in $u_ms and $TERM_MS ms"
before=$(assigned_count run-t)
proxy_ctl "delay 0"
RUN_PID=$T_PID
finish_run run-t "$REDIS_PORT_run" "$before"

compare_with_reference "$REDIS_PORT_run"
log "PASS (seed $SEED; $CHAT+$ORDER events, $KILLS kills, 1->3->1; $((SECONDS - T_START)) s)"
