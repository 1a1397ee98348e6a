#!/usr/bin/env bash
# Fault suite, zombie: an instance Z is stopped (SIGSTOP) mid-stream, with
# events in memory and a flush in flight, for longer than the session
# timeout; a second instance T takes its partitions over and writes; then
# Z resumes (SIGCONT). Z's stale state must never reach Redis (its flush
# is refused or its assignment dropped), and Redis and the alerts topic
# must equal an uninterrupted run's. ZOMBIES (default 1, 3 with
# CSM_LONG=1) rounds; SESSIONS the stream's size; SEED the stream.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"
csm_setup
# Redis must be equal; the alerts topic may hold a zombie's last alerts
# twice (a known open defect, see compare_with_reference).
ZOMBIE_DUPLICATES_KNOWN=1
if [[ $CSM_LONG == 1 ]]; then
    ZOMBIES=${ZOMBIES:-3} SESSIONS=${SESSIONS:-20000}
else
    ZOMBIES=${ZOMBIES:-1} SESSIONS=${SESSIONS:-8000}
fi
T_START=$SECONDS
fault_stream "$SESSIONS" 4 8
reference_run

start_redis run
# Replies 30 ms late: the stream lasts while instances come and go, and a
# stop usually catches a flush between its EXEC and its reply.
start_proxy "$REDIS_PORT_run"
proxy_ctl "delay 30"
fault_config run "$PROXY_PORT"

start_run "$CSM_TMP/run.yaml" run-0
for ((z = 1; z <= ZOMBIES; z++)); do
    Z_PID=$RUN_PID
    zlog=run-$((z - 1))
    wait_progress "$REDIS_PORT_run" $((CHAT * z / (ZOMBIES + 2))) 120 || fail "zombie $z: no progress"
    kill -STOP "$Z_PID"
    at_stop=$(progress "$REDIS_PORT_run")
    ((at_stop < CHAT)) || fail "zombie $z: the stream was over before the zombie stopped"
    start_run "$CSM_TMP/run.yaml" "run-$z"
    wait_progress "$REDIS_PORT_run" $((at_stop + 2000)) 120 || fail "zombie $z: T made no progress"
    kill -CONT "$Z_PID"
    refused() { grep -qE "checkpoint [^ ]* is at seq|assignment lost" "$CSM_TMP/$zlog.log"; }
    wait_until 30 refused || fail "zombie $z: its stale state was neither refused nor dropped"
    T_PID=$RUN_PID
    term_within "$Z_PID" 5
    RUN_PID=$T_PID
    log "zombie $z: stopped at chat $at_stop; $(grep -cE "checkpoint [^ ]* is at seq|assignment lost" "$CSM_TMP/$zlog.log") refusals logged; SIGTERM exit in $TERM_MS ms"
done
proxy_ctl "delay 0"
finish_run "run-$ZOMBIES" "$REDIS_PORT_run" 0

compare_with_reference "$REDIS_PORT_run"
log "PASS (seed $SEED; $CHAT+$ORDER events, $ZOMBIES zombies; $ZOMBIE_DUPLICATES alerts twice on Kafka, known defect; $((SECONDS - T_START)) s)"
