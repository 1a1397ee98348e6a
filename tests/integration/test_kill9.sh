#!/usr/bin/env bash
# Exactly-once effect under kill -9: a generated stream is consumed once
# without interruption into one Redis, and once into another Redis by a
# run killed with SIGKILL at random moments and restarted until it has
# consumed everything. Both databases must be equal, key for key (the
# checkpoints aside: their snapshots depend on when flushes happened), and
# both runs' Kafka alerts topics must hold the same alerts, once each.
#
# KILLS (default 5) sets the number of kills; SEED (default: random) the
# moments; SESSIONS (default 6000, about 45 000 events) the size of the stream;
# DAYS (default 4) how many days it spans.
source "$(dirname "$0")/lib.sh"
csm_setup
KILLS=${KILLS:-5}
SEED=${SEED:-$RANDOM}
SESSIONS=${SESSIONS:-6000}
# Several days, so the long-horizon state (21-day after-sale look-back, 72 h
# FCR window, 15-day escalation look-back) crosses the kills.
DAYS=${DAYS:-4}
RANDOM=$SEED
log "seed $SEED, $KILLS kills, $SESSIONS sessions"

start_redis a
start_redis b
# 8 partitions keep each mock partition well under its ~5 MB retention.
start_broker 8 cs.alerts.a,cs.alerts.b

# Separate groups so each run reads the topics from the start. No idle
# advance (event time would follow the wall clock, which differs between
# runs); short session timeout so a killed member leaves the group fast;
# small frequent flushes so that kills fall between many of them.
for x in a b; do
    port_var=REDIS_PORT_$x
    write_config "$CSM_TMP/$x.yaml" "${!port_var}" "  idle_advance: 30d
  flush_interval: 20ms
  flush_max_events: 500" "  alerts_topic: cs.alerts.$x"
    sed -i "s/group_id: csm-it/group_id: csm-it-$x\n  properties:\n    session.timeout.ms: \"3000\"\n    heartbeat.interval.ms: \"300\"/" \
        "$CSM_TMP/$x.yaml"
done

"$CSM_BIN" gen --out "$CSM_TMP/events.jsonl" --seed 7 --sessions "$SESSIONS" --days "$DAYS" \
    >"$CSM_TMP/gen.log" 2>&1 || fail "gen failed: $(cat "$CSM_TMP/gen.log")"
"$CSM_BIN" produce -c "$CSM_TMP/a.yaml" "$CSM_TMP/events.jsonl" \
    >"$CSM_TMP/produce.log" 2>&1 || fail "produce failed: $(cat "$CSM_TMP/produce.log")"
CHAT=$(topic_total cs.chat.events)
ORDER=$(topic_total cs.order.events)
log "produced $CHAT chat and $ORDER order events"
((CHAT + ORDER > 0)) || fail "nothing produced"

# Uninterrupted run into Redis a.
start_run "$CSM_TMP/a.yaml" run-a
wait_until 300 consumed_all "$REDIS_PORT_a" "$CHAT" "$ORDER" || fail "run a did not consume everything"
stop_run 10
redis_dump "$REDIS_PORT_a" >"$CSM_TMP/dump-a.txt"
log "run a: $(wc -l <"$CSM_TMP/dump-a.txt") dump lines"

# Killed run into Redis b. Kill k waits until about k/(KILLS+1) of the chat
# events are checkpointed (plus a random 0-90 ms), so the kills spread
# over the stream: the whole stream takes well under a second to consume,
# too short to hit by sleeping a random time.
progress() {
    rcli "$REDIS_PORT_b" eval "local s = 0
        for _, k in ipairs(redis.call('keys', 'csm:ckpt:*')) do
            local v = tonumber(redis.call('hget', k, 'chat_offset'))
            if v and v > 0 then s = s + v end
        end
        return s" 0
}
for ((k = 1; k <= KILLS; k++)); do
    target=$((CHAT * k / (KILLS + 1) + (RANDOM % 1000) - 500))
    start_run "$CSM_TMP/b.yaml" run-b
    for ((i = 0; i < 6000; i++)); do
        (($(progress) >= target)) && break
        sleep 0.01
    done
    sleep "0.0$((RANDOM % 10))"
    kill -9 "$RUN_PID"
    wait "$RUN_PID" 2>/dev/null || true
    log "kill $k (target $target): chat $(ckpt_sum "$REDIS_PORT_b" chat_offset)/$CHAT order $(ckpt_sum "$REDIS_PORT_b" order_offset)/$ORDER"
done
assigned_before=$(grep -c "partition numbers owned" "$CSM_TMP/run-b.log" || true)
start_run "$CSM_TMP/b.yaml" run-b
wait_until 300 consumed_all "$REDIS_PORT_b" "$CHAT" "$ORDER" || fail "run b did not consume everything"
# The last kill may come after everything was consumed but before the
# alerts of the last flush reached Kafka: they wait in the checkpoint's
# outbox for the next owner, so let this run take the partitions over.
assigned() { (($(grep -c "partition numbers owned" "$CSM_TMP/run-b.log" || true) > assigned_before)); }
wait_until 60 assigned || fail "the last run b was never assigned the partitions"
sleep 2
stop_run 10
redis_dump "$REDIS_PORT_b" >"$CSM_TMP/dump-b.txt"

if ! cmp -s "$CSM_TMP/dump-a.txt" "$CSM_TMP/dump-b.txt"; then
    diff "$CSM_TMP/dump-a.txt" "$CSM_TMP/dump-b.txt" | head -40 >&2
    fail "Redis after kill -9 differs from the uninterrupted run (seed $SEED)"
fi

# The alerts topics: same records (partition, seq, fields), none twice.
# (SATISFACTION_BELOW_TARGET records share partition 0 with their own
# numbering, so duplicates are whole identical records.)
for x in a b; do
    "$CSM_DLQ_DUMP" --alerts "$CSM_SCHEMA_DIR" "$BOOTSTRAP" "cs.alerts.$x" |
        sort >"$CSM_TMP/alerts-$x.txt" || fail "cannot read cs.alerts.$x"
done
dups=$(uniq -d "$CSM_TMP/alerts-b.txt" | wc -l)
n_sbt=$(grep -c "type=SATISFACTION_BELOW_TARGET" "$CSM_TMP/alerts-a.txt" || true)
((dups == 0)) || fail "$dups alerts produced twice after kill -9 (seed $SEED)"
if ! cmp -s "$CSM_TMP/alerts-a.txt" "$CSM_TMP/alerts-b.txt"; then
    diff "$CSM_TMP/alerts-a.txt" "$CSM_TMP/alerts-b.txt" | head -20 >&2
    fail "alerts topic after kill -9 differs from the uninterrupted run (seed $SEED)"
fi
n_alerts=$(wc -l <"$CSM_TMP/alerts-a.txt")
((n_alerts > 0)) || fail "the stream raised no alerts: the comparison proves nothing"
log "PASS (seed $SEED; $n_alerts alerts on Kafka in both runs, $n_sbt of them SATISFACTION_BELOW_TARGET)"
