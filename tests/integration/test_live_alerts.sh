#!/usr/bin/env bash
# Live alerts (metrics.md "Alerts", "Event time"): with traffic flowing,
# a FIRST_RESPONSE_TIMEOUT appears in the shop's Redis stream and on the
# Kafka alerts topic within a few seconds of event time passing request +
# threshold; and also when the partition then goes quiet, by idle advance.
# Event times are the wall clock of production, so "event time passes the
# deadline" happens at wall-clock time = deadline.
# The threshold is 5 s here (first_response_timeout configures the alert
# only; the figures' 120 s stay fixed), so the test takes seconds.
# A restart afterwards must not produce any alert a second time.
source "$(dirname "$0")/lib.sh"
csm_setup
start_redis
start_broker 1 cs.alerts
CFG=$CSM_TMP/csmetrics.yaml
write_config "$CFG" "$REDIS_PORT" "  idle_advance: 2s
  allowed_lateness: 1s" "  alerts_topic: cs.alerts
  properties:
    session.timeout.ms: \"3000\"
    heartbeat.interval.ms: \"300\"" "plugins:
  - session
  - name: sla
    first_response_timeout: 5s
  - unserved"
start_run "$CFG" run
# The group join takes ~3 s on the mock (shared/notes/kafka-mock.md).
wait_until 20 grep -q "assigned" "$CSM_TMP/run.log" || fail "run was never assigned partitions"

now_ms() { date +%s%3N; }
event() { # customer type ts [sender]
    local sender=""
    [[ -n ${4:-} ]] && sender=", \"sender\": \"$4\", \"msg_kind\": \"TEXT\""
    printf '{"stream": "chat", "event_id": "%s-%s-%s", "platform": "DOUYIN", "shop_id": "L1", "customer_id": "%s", "ts": %s, "type": "%s"%s}\n' \
        "$1" "$2" "$3" "$1" "$3" "$2" "$sender"
}
produce() { # jsonl lines on stdin
    cat >"$CSM_TMP/ev.jsonl"
    "$CSM_BIN" produce -c "$CFG" "$CSM_TMP/ev.jsonl" >>"$CSM_TMP/produce.log" 2>&1 ||
        fail "produce failed"
}
frt_count() {
    rcli "$REDIS_PORT" xrange 'csm:{L1}:alerts' - + | grep -c '^FIRST_RESPONSE_TIMEOUT$' || true
}
# seen_after N DEADLINE_MS: waits for the N-th alert, prints ms after the deadline.
seen_after() {
    local n=$1 deadline=$2 limit=$((SECONDS + 30))
    while (($(frt_count) < n)); do
        ((SECONDS < limit)) || fail "alert $n not in Redis 30 s after produce"
        sleep 0.05
    done
    echo $(($(now_ms) - deadline))
}

# 1. Traffic flowing: c1 asks for a human at T and gets no reply; c2 keeps
#    chatting every second, which moves event time past T + 5 s.
T=$(now_ms)
event c1 HUMAN_REQUESTED "$T" | produce
for i in 1 2 3 4 5 6 7 8; do
    sleep 1
    event c2 MESSAGE "$(now_ms)" CUSTOMER | produce
done &
FEEDER=$!
flowing=$(seen_after 1 $((T + 5000)))
wait $FEEDER
log "traffic flowing: FIRST_RESPONSE_TIMEOUT in Redis ${flowing} ms after the deadline"

# 2. Quiet: c3 asks at T2, then nothing arrives on the partition.
sleep 2
T2=$(now_ms)
event c3 HUMAN_REQUESTED "$T2" | produce
quiet=$(seen_after 2 $((T2 + 5000)))
log "quiet partition: FIRST_RESPONSE_TIMEOUT in Redis ${quiet} ms after the deadline"
# "A few seconds": idle_advance (2 s) plus its 1 s steps plus a flush.
((flowing <= 5000)) || fail "flowing alert came ${flowing} ms after its deadline"
((quiet <= 5000)) || fail "quiet alert came ${quiet} ms after its deadline"

# Both on the Kafka alerts topic, numbered 1 and 2, once each, with the
# fields of the Redis entries.
alerts_topic() {
    "$CSM_DLQ_DUMP" --alerts "$CSM_SCHEMA_DIR" "$BOOTSTRAP" cs.alerts >"$CSM_TMP/alerts.txt" &&
        [[ $(grep -c FIRST_RESPONSE_TIMEOUT "$CSM_TMP/alerts.txt") -ge 2 ]]
}
wait_until 15 alerts_topic || fail "alerts topic: $(cat "$CSM_TMP/alerts.txt")"
check_alerts() {
    python3 - "$CSM_TMP/alerts.txt" "$T" "$T2" <<'PY'
import sys
lines = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
t1, t2 = int(sys.argv[2]), int(sys.argv[3])
got = [(l[0], l[1], dict(kv.split("=", 1) for kv in l[2:])) for l in lines]
frt = [g for g in got if g[2]["type"] == "FIRST_RESPONSE_TIMEOUT"]
want = [("0", "1", "c1", t1), ("0", "2", "c3", t2)]
bad = []
if len(frt) != 2:
    bad.append("want 2 FIRST_RESPONSE_TIMEOUT records, got %d" % len(frt))
for (p, seq, f), (wp, wseq, cust, t) in zip(frt, want):
    exp = {"shop_id": "L1", "customer_id": cust, "session_open_ts": str(t),
           "anchor_ts": str(t), "raised_ts": str(t + 5000), "figure": "5000",
           "agent_id": "", "platform": "DOUYIN"}
    for k, v in exp.items():
        if f.get(k) != v:
            bad.append("seq %s: %s = %r, want %r" % (seq, k, f.get(k), v))
    if (p, seq) != (wp, wseq):
        bad.append("record for %s at partition %s seq %s, want %s/%s" % (cust, p, seq, wp, wseq))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
}
check_alerts || fail "alerts topic content"
xr=$(rcli "$REDIS_PORT" xrange 'csm:{L1}:alerts' - +)
grep -qx "$((T + 5000))" <<<"$xr" || fail "Redis stream lacks raised_ts $((T + 5000))"
grep -qx "$((T2 + 5000))" <<<"$xr" || fail "Redis stream lacks raised_ts $((T2 + 5000))"

# A restart (SIGTERM, then run again) sends nothing twice.
stop_run 10
start_run "$CFG" run2
wait_until 60 grep -q "checkpoint loaded" "$CSM_TMP/run2.log" || fail "restart did not load"
sleep 3
stop_run 10
"$CSM_DLQ_DUMP" --alerts "$CSM_SCHEMA_DIR" "$BOOTSTRAP" cs.alerts >"$CSM_TMP/alerts.txt"
check_alerts || fail "alerts topic after restart: $(cat "$CSM_TMP/alerts.txt")"
[[ $(frt_count) -eq 2 ]] || fail "Redis stream has $(frt_count) FIRST_RESPONSE_TIMEOUT, want 2"
log "PASS (flowing ${flowing} ms, quiet ${quiet} ms after the deadline)"
