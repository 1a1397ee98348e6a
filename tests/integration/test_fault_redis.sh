#!/usr/bin/env bash
# Fault suite, Redis: one stream consumed without interruption into Redis
# "ref", and by one run into Redis "run" (AOF, appendfsync always) through
# tests/tools/redis_proxy.py while, at moments spread over the stream:
#   - EXEC replies are lost: the transaction applies, the connection is
#     closed before the reply reaches the run (LOST, default 8);
#   - writes pause: the run's commands wait 0.2-2.5 s in the proxy, some
#     past the 1 s Redis timeout (PAUSES, default 12);
#   - Redis is slow: every reply 150 ms late for 3 s;
#   - Redis is paused (SIGSTOP) for STOP_S seconds (default 20), then SIGCONT;
#   - Redis is killed (SIGKILL) and restarted from its AOF;
#   - Redis is shut down (SHUTDOWN) and restarted.
# Redis and the alerts topic must then equal the reference run's.
# CSM_LONG=1 triples the lost replies and pauses over a bigger stream.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"
csm_setup
if [[ $CSM_LONG == 1 ]]; then
    LOST=${LOST:-24} PAUSES=${PAUSES:-36} SESSIONS=${SESSIONS:-24000}
else
    LOST=${LOST:-8} PAUSES=${PAUSES:-12} SESSIONS=${SESSIONS:-8000}
fi
STOP_S=${STOP_S:-20}
T_START=$SECONDS
fault_stream "$SESSIONS" 4 8
reference_run

# start_aof_redis: Redis "run" on RUN_REDIS_PORT (kept across restarts),
# persisting every write before answering it; sets RUN_REDIS_PID.
RUN_REDIS_PORT=$(free_port)
mkdir -p "$CSM_TMP/aof"
start_aof_redis() {
    redis-server --port "$RUN_REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly yes \
        --appendfsync always --daemonize no --dir "$CSM_TMP/aof" >>"$CSM_TMP/redis-run.log" 2>&1 &
    RUN_REDIS_PID=$!
    CSM_PIDS+=($RUN_REDIS_PID)
    # PONG, not just an answer: while it loads the AOF, Redis answers LOADING.
    wait_until 10 pong || fail "redis-server did not (re)start"
}
pong() { [[ $(rcli "$RUN_REDIS_PORT" ping 2>/dev/null) == PONG ]]; }
gone() { ! kill -0 "$RUN_REDIS_PID" 2>/dev/null; }
start_aof_redis
start_proxy "$RUN_REDIS_PORT"
# Replies 40 ms late throughout: the stream lasts across all the faults.
proxy_ctl "delay 40"
fault_config run "$PROXY_PORT" "  timeout: 1s"

# The faults in a random order, each at its share of the stream.
FAULTS=()
for ((i = 0; i < LOST; i++)); do FAULTS+=(lost); done
for ((i = 0; i < PAUSES; i++)); do FAULTS+=(pause); done
FAULTS+=(slow stop kill shutdown)
shuffle_faults

inject() {
    case $1 in
    lost)
        local n
        n=$(grep -c '^LOST EXEC' "$CSM_TMP/proxy.out" || true)
        proxy_ctl "lose-exec 1"
        lost_one() { (($(grep -c '^LOST EXEC' "$CSM_TMP/proxy.out" || true) > n)); }
        wait_until 60 lost_one || fail "no EXEC reply was lost"
        ;;
    pause)
        local ms=$((200 + RANDOM % 2300))
        proxy_ctl "hold $ms"
        sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
        ;;
    slow)
        proxy_ctl "delay 150"
        sleep 3
        proxy_ctl "delay 40"
        ;;
    stop)
        kill -STOP "$RUN_REDIS_PID"
        sleep "$STOP_S"
        kill -CONT "$RUN_REDIS_PID"
        ;;
    kill)
        kill -9 "$RUN_REDIS_PID"
        wait_until 10 gone || fail "redis-server survived SIGKILL"
        sleep 1
        start_aof_redis
        ;;
    shutdown)
        rcli "$RUN_REDIS_PORT" shutdown >/dev/null 2>&1 || true
        wait_until 10 gone || fail "redis-server did not shut down"
        sleep 1
        start_aof_redis
        ;;
    esac
}

start_run "$CSM_TMP/run.yaml" run
run_faults "$RUN_REDIS_PORT"
proxy_ctl "delay 0"
finish_run run "$RUN_REDIS_PORT" 0

compare_with_reference "$RUN_REDIS_PORT"
log "PASS (seed $SEED; $CHAT+$ORDER events; $LOST lost EXEC replies ($(grep -c '^LOST EXEC' "$CSM_TMP/proxy.out") seen), $PAUSES write pauses, slow, ${STOP_S}s SIGSTOP, SIGKILL+AOF restart, SHUTDOWN+restart; $((SECONDS - T_START)) s)"
