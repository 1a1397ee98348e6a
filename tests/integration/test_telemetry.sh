#!/usr/bin/env bash
# The daemon's telemetry (docs/telemetry.md) on http.port: /metrics shows
# exactly what a small generated input implies (figures derived by hand
# below), /healthz answers, /readyz turns 503 within 10 s of Redis
# stopping (and of a flush sticking on a hung Redis) and 200 again once it
# is back, and SIGTERM closes the port.
source "$(dirname "$0")/lib.sh"
csm_setup
command -v curl >/dev/null || fail "curl not installed"
start_redis
start_broker 4
HTTP_PORT=$(free_port)
CFG=$CSM_TMP/csmetrics.yaml
# The data is dated 2026-03-10: a 10-year horizon keeps it within pipeline.horizon until 2036;
# a 1 s idle advance applies each partition's last events without more traffic.
write_config "$CFG" "$REDIS_PORT" "  idle_advance: 1s
  horizon: 3650d" "" "http:
  bind: 127.0.0.1
  port: $HTTP_PORT"

# The input, shop S1 (Asia/Shanghai), from 2026-03-10 10:00 local (1773108000000):
#  - customers c1..c5, one session each, 10 minutes apart (t0 = base + i*600 s): a CUSTOMER
#    MESSAGE at t0, an AGENT MESSAGE at t0+10 s, SESSION_CLOSED at t0+260 s: 15 chat events,
#    no alert (no human request, so no reply round; every session answered).
#  - c6 (t0 = base + 3600 s) also asks for a human at t0+5 s and is assigned at t0+10 s (its
#    waiting message opens a round then); the agent replies at t0+200 s: 5 chat events and
#    two alerts, FIRST_RESPONSE_TIMEOUT (no human reply 120 s after the request) and
#    RESPONSE_TIMEOUT (the round open 190 s > 180 s). Assigned: no NOT_PICKED_UP; answered:
#    not unserved.
#  - c7: a SESSION_CLOSED without a session: applied, and the session plugin counts it as
#    ignored_no_session (stat_add).
#  - order topic: PAID for c1, c2, c3 at their t0+30 s: 3 events.
#  - c1's first message again, same event_id: 1 duplicate.
#  - c2: a message 1 h before its session, after it: late (W - 5 s is far past it).
#  - c3: a message 30 days after its session, after it: the 7-day rule rejects it.
#  - a truncated Avro record on each topic: undecodable.
# So: chat in 15+5+1+1+1+1+1 = 25, applied 21, duplicate 1, late 1, dead letters undecodable 1,
# rejected 1, late 1; order in 3+1 = 4, applied 3, undecodable 1. The session plugin holds one
# record per customer with a session or a PAID day: c1..c6 = 6 (c7 opened nothing).
python3 - "$CSM_TMP/input.jsonl" <<'PY'
import json, sys
base = 1773108000000
rows = []
def chat(eid, cust, ts, **kw):
    rows.append(dict(stream="chat", event_id=eid, platform="DOUYIN", shop_id="S1",
                     customer_id=cust, ts=ts, **kw))
for i in range(1, 7):
    t0 = base + i * 600000
    reply = 200000 if i == 6 else 10000
    chat("tm-%d-1" % i, "c%d" % i, t0, type="MESSAGE", sender="CUSTOMER", msg_kind="TEXT")
    if i == 6:
        chat("tm-6-r", "c6", t0 + 5000, type="HUMAN_REQUESTED")
        chat("tm-6-a", "c6", t0 + 10000, type="ASSIGNED", agent_id="a1")
    chat("tm-%d-2" % i, "c%d" % i, t0 + reply, type="MESSAGE", sender="AGENT", msg_kind="TEXT",
         agent_id="a1")
    chat("tm-%d-3" % i, "c%d" % i, t0 + 260000, type="SESSION_CLOSED", reason="AGENT")
    if i <= 3:
        rows.append(dict(stream="order", event_id="tm-o-%d" % i, platform="DOUYIN", shop_id="S1",
                         customer_id="c%d" % i, ts=t0 + 30000, type="PAID", order_id="o%d" % i))
chat("tm-7-1", "c7", base + 5000000, type="SESSION_CLOSED", reason="AGENT")
chat("tm-1-1", "c1", base + 600000, type="MESSAGE", sender="CUSTOMER", msg_kind="TEXT")
chat("tm-late", "c2", base + 1200000 - 3600000, type="MESSAGE", sender="CUSTOMER",
     msg_kind="TEXT")
chat("tm-far", "c3", base + 1800000 + 30 * 86400000, type="MESSAGE", sender="CUSTOMER",
     msg_kind="TEXT")
# event_id announced as 5 bytes, 2 present
rows.append(dict(stream="chat", raw_hex="0a6162", key="S1:c1"))
rows.append(dict(stream="order", raw_hex="0a6162", key="S1:c1"))
with open(sys.argv[1], "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
PY
produce_file "$CFG" "$CSM_TMP/input.jsonl" 25

start_run "$CFG" run
URL=http://127.0.0.1:$HTTP_PORT
wait_until 10 curl -sf -o /dev/null "$URL/healthz" || fail "nothing listens on http.port"

# metrics_are NAME{LABELS}=VALUE...: every sample has exactly this value.
metrics_are() {
    curl -sf "$URL/metrics" >"$CSM_TMP/metrics.txt" || return 1
    python3 - "$CSM_TMP/metrics.txt" "$@" <<'PY'
import sys
got = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    series, value = line.rsplit(" ", 1)
    got[series] = value.strip()
bad = [a for a in sys.argv[2:] if got.get(a.rsplit("=", 1)[0]) != a.rsplit("=", 1)[1]]
if bad:
    print("not as expected: " + ", ".join("%s (got %s)" % (b, got.get(b.rsplit("=", 1)[0]))
                                          for b in bad), file=sys.stderr)
    sys.exit(1)
PY
}
C='topic="cs.chat.events"'
O='topic="cs.order.events"'
expected=(
    "csmetrics_messages_in_total{$C}=25" "csmetrics_messages_in_total{$O}=4"
    "csmetrics_messages_applied_total{$C}=21" "csmetrics_messages_applied_total{$O}=3"
    "csmetrics_messages_duplicate_total{$C}=1" "csmetrics_messages_duplicate_total{$O}=0"
    "csmetrics_messages_late_total{$C}=1" "csmetrics_messages_late_total{$O}=0"
    "csmetrics_dead_letters_total{$C,reason=\"undecodable\"}=1"
    "csmetrics_dead_letters_total{$C,reason=\"rejected\"}=1"
    "csmetrics_dead_letters_total{$C,reason=\"late\"}=1"
    "csmetrics_dead_letters_total{$O,reason=\"undecodable\"}=1"
    "csmetrics_dead_letters_total{$O,reason=\"rejected\"}=0"
    "csmetrics_dead_letters_total{$O,reason=\"late\"}=0"
    'csmetrics_alerts_raised_total=2'
    'csmetrics_plugin_events_total{plugin="session",name="ignored_no_session"}=1'
    'csmetrics_plugin_state_entries{plugin="session"}=6' 'csmetrics_open_sessions=6'
    'csmetrics_partitions_owned=4' 'csmetrics_ready=1' 'csmetrics_redis_errors_total=0'
    'csmetrics_flushes_total{outcome="failed"}=0' 'csmetrics_flushes_total{outcome="conflict"}=0'
)
# Every message is consumed: no lag on any of the 8 topic partitions.
for p in 0 1 2 3; do
    expected+=("csmetrics_consumer_lag_messages{$C,partition=\"$p\"}=0"
        "csmetrics_consumer_lag_messages{$O,partition=\"$p\"}=0")
done
if ! wait_until 60 metrics_are "${expected[@]}" 2>"$CSM_TMP/check.log"; then
    cat "$CSM_TMP/check.log" >&2
    fail "/metrics never showed the expected figures"
fi
log "metrics as expected"

# The alert rules and the Grafana dashboard of deploy/ name daemon metrics:
# this page must serve them, with the labels they group by.
python3 "$CSM_TESTS/tools/check_deploy_metrics.py" --daemon-page "$CSM_TMP/metrics.txt" \
    || fail "deploy/ names daemon metrics this page does not serve"

# What depends on timing is checked for its form: flushes happened and landed, their
# histogram counts each of them, checkpoints were written, the plugins took time.
python3 - "$CSM_TMP/metrics.txt" <<'PY' || fail "metrics: $(cat "$CSM_TMP/metrics.txt")"
import sys
got, types = {}, {}
for line in open(sys.argv[1]):
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split()
        types[name] = kind
    elif line.strip() and not line.startswith("#"):
        series, value = line.rsplit(" ", 1)
        got[series] = float(value)
ok = got['csmetrics_flushes_total{outcome="ok"}']
assert ok >= 1, ok
assert got["csmetrics_flush_duration_seconds_count"] == ok, "histogram count != flushes"
assert got['csmetrics_flush_duration_seconds_bucket{le="+Inf"}'] == ok
buckets = [v for k, v in got.items() if k.startswith("csmetrics_flush_duration_seconds_bucket")]
assert buckets == sorted(buckets), "buckets not cumulative"
assert got["csmetrics_checkpoint_bytes_total"] > 0
assert got['csmetrics_plugin_callback_seconds_total{plugin="session"}'] > 0
assert got["csmetrics_process_resident_memory_bytes"] > 1 << 20
for name, kind in types.items():
    assert kind != "counter" or name.endswith("_total"), name
assert types["csmetrics_flush_duration_seconds"] == "histogram"
PY
[[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz") == 200 ]] || fail "/healthz not 200"
[[ $(curl -s "$URL/readyz") == ready ]] || fail "/readyz: $(curl -s "$URL/readyz")"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/nosuchpage") == 404 ]] || fail "no 404"
"$CSM_DLQ_DUMP" "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq.txt"
[[ $(wc -l <"$CSM_TMP/dlq.txt") -eq 4 ]] || fail "want 4 dead letters: $(cat "$CSM_TMP/dlq.txt")"

# since T0: seconds elapsed since T0 (date +%s.%N), one decimal.
since() {
    python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" \
        "$1" "$(date +%s.%N)"
}
# ready_is CODE: /readyz answers CODE.
ready_is() {
    [[ $(curl -s -o "$CSM_TMP/readyz.txt" -w '%{http_code}' "$URL/readyz") == "$1" ]]
}
# Redis stops (saving its data, so the checkpoints survive the restart).
rcli "$REDIS_PORT" shutdown save >/dev/null 2>&1 || true
t0=$(date +%s.%N)
wait_until 15 ready_is 503 || fail "/readyz still $(cat "$CSM_TMP/readyz.txt") after Redis stopped"
took=$(since "$t0")
log "/readyz 503 ${took}s after Redis stopped: $(cat "$CSM_TMP/readyz.txt")"
python3 -c "import sys; sys.exit(float(sys.argv[1]) > 10)" "$took" || fail "took ${took}s (> 10 s)"
grep -q '^not ready: ' "$CSM_TMP/readyz.txt" || fail "no reason: $(cat "$CSM_TMP/readyz.txt")"
[[ $(wc -l <"$CSM_TMP/readyz.txt") -eq 1 ]] || fail "the reason is not one line"
metrics_are 'csmetrics_ready=0' || fail "csmetrics_ready is not 0 while not ready"

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize no --dir "$CSM_TMP" >>"$CSM_TMP/redis-main.log" 2>&1 &
REDIS_PID=$!
CSM_PIDS+=($REDIS_PID)
t0=$(date +%s.%N)
wait_until 30 ready_is 200 || fail "/readyz still $(cat "$CSM_TMP/readyz.txt") after Redis came back"
log "/readyz 200 again $(since "$t0")s after Redis came back"

# Redis hangs (SIGSTOP): the flush in flight sticks until redis.timeout.
kill -STOP "$REDIS_PID"
t0=$(date +%s.%N)
wait_until 15 ready_is 503 || fail "/readyz still $(cat "$CSM_TMP/readyz.txt") with Redis stopped"
took=$(since "$t0")
kill -CONT "$REDIS_PID"
log "/readyz 503 ${took}s after Redis hung: $(cat "$CSM_TMP/readyz.txt")"
python3 -c "import sys; sys.exit(float(sys.argv[1]) > 10)" "$took" || fail "took ${took}s (> 10 s)"
wait_until 30 ready_is 200 || fail "/readyz still $(cat "$CSM_TMP/readyz.txt") after SIGCONT"
# The checkpoints survived: nothing was consumed a second time.
metrics_are "csmetrics_messages_in_total{$C}=25" "csmetrics_messages_in_total{$O}=4" \
    'csmetrics_ready=1' || fail "figures changed: $(cat "$CSM_TMP/metrics.txt")"
python3 - "$CSM_TMP/metrics.txt" <<'PY' || fail "Redis's outage is not counted"
import sys
got = dict(l.strip().rsplit(" ", 1) for l in open(sys.argv[1]) if l.strip() and not l.startswith("#"))
assert float(got["csmetrics_redis_errors_total"]) >= 1
PY

stop_run 10
curl -s -o /dev/null "$URL/healthz" && fail "http.port still answers after exit"
log "PASS"
