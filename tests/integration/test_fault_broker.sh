#!/usr/bin/env bash
# Fault suite, Kafka: one stream consumed without interruption into Redis
# "ref", and by one run into Redis "run" while the mock cluster (three
# brokers, `csmetrics broker --nodes 3 --control FIFO`) injects, at
# moments spread over the stream: a broker down then up, every broker
# down then up, a slow broker (RTT), Fetch / Produce / Heartbeat /
# OffsetCommit / JoinGroup requests failing (NOT_LEADER_FOR_PARTITION,
# REBALANCE_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, cut connections),
# partition leaders and the group coordinator moving. Nothing may be lost
# or doubled: Redis and the alerts topic must equal the reference run's.
# CSM_LONG=1 runs the list three times over a bigger stream.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"
csm_setup
if [[ $CSM_LONG == 1 ]]; then
    ROUNDS=${ROUNDS:-3} SESSIONS=${SESSIONS:-24000}
else
    ROUNDS=${ROUNDS:-1} SESSIONS=${SESSIONS:-8000}
fi
T_START=$SECONDS
mkfifo "$CSM_TMP/broker.ctl"
fault_stream "$SESSIONS" 4 8 --nodes 3 --control "$CSM_TMP/broker.ctl"
reference_run

start_redis run
# Replies 60 ms late: the stream lasts across all the faults (at 40 ms it
# ran out before the last ones once the shop-day tick stopped reading
# every partition's clock each second when nothing is due).
start_proxy "$REDIS_PORT_run"
proxy_ctl "delay 60"
fault_config run "$PROXY_PORT"

FAULTS=()
for ((r = 0; r < ROUNDS; r++)); do
    FAULTS+=(down down-all rtt fetch-errors fetch-cut produce-errors heartbeat-errors
        commit-errors join-errors leaders coordinator)
done
shuffle_faults

N_CTL=0
ctl() {
    broker_ctl "$1"
    N_CTL=$((N_CTL + 1))
}
inject() {
    local b=$((1 + RANDOM % 3)) p
    case $1 in
    down)
        ctl "down $b"
        sleep $((3 + RANDOM % 3))
        ctl "up $b"
        ;;
    down-all)
        ctl "down -1"
        sleep 4
        ctl "up -1"
        ;;
    rtt)
        ctl "rtt $b 500"
        sleep 3
        ctl "rtt $b 0"
        ;;
    fetch-errors) ctl "errors Fetch 5 NOT_LEADER_FOR_PARTITION" ;;
    fetch-cut) ctl "errors Fetch 3 _TRANSPORT" ;;
    produce-errors) ctl "errors Produce 3 NOT_LEADER_FOR_PARTITION" ;;
    heartbeat-errors) ctl "errors Heartbeat 2 REBALANCE_IN_PROGRESS" ;;
    commit-errors) ctl "errors OffsetCommit 3 COORDINATOR_NOT_AVAILABLE" ;;
    join-errors)
        ctl "errors JoinGroup 2 COORDINATOR_LOAD_IN_PROGRESS"
        ctl "errors Heartbeat 1 REBALANCE_IN_PROGRESS"
        ;;
    leaders)
        for p in 0 3 5; do
            ctl "leader cs.chat.events $p $b"
            ctl "leader cs.order.events $p $((1 + (b % 3)))"
        done
        ;;
    coordinator) ctl "coordinator csm-run $b" ;;
    esac
}

start_run "$CSM_TMP/run.yaml" run
run_faults "$REDIS_PORT_run"
proxy_ctl "delay 0"
finish_run run "$REDIS_PORT_run" 0

compare_with_reference "$REDIS_PORT_run"
log "PASS (seed $SEED; $CHAT+$ORDER events; ${#FAULTS[@]} faults, $N_CTL control commands; $((SECONDS - T_START)) s)"
