#!/usr/bin/env bash
# One absurd timestamp loses nothing (issue 9 item 1). 18 partition
# numbers, each with one shop, one customer and the same small stream of
# good events dated two days ago (10 chat, 5 order), plus one poison chat
# event: ts = 1, 0, 1970-07-01, 2100-01-01, INT64_MAX or now + 8 days, as
# the first, a middle or the last chat event of its partition. Both topics
# are produced before `run` starts, so the poison is read while catching up
# and, before the fix, ordered the two-topic merge or became the
# partition's clock.
# Every poison must be in the dead-letter topic with its reason, and every
# good event applied: no late, no 7-day dead letter, the probe plugin's
# count of applied events and the session figure exactly as derived below.
# Then a restart changes nothing.
# allowed_lateness 0 makes any event that arrives out of ts order late, so
# a merge disturbed by the poison shows; without idle advance nothing
# follows the wall clock, so the restart must leave Redis as it was.
source "$(dirname "$0")/lib.sh"
csm_setup
PARTS=18
start_redis
start_broker "$PARTS"
# The probe plugin (tests/plugins/probe, not installed) counts every event
# applied to the chain: "events" in the shop's allday hash.
PROBE_DIR=$(dirname "$(dirname "$CSM_BIN")")/tests/plugins
[[ -f $PROBE_DIR/probe.so ]] || fail "no probe plugin in $PROBE_DIR"
CSM_PLUGIN_PATH=$CSM_PLUGIN_PATH:$PROBE_DIR
CFG=$CSM_TMP/csmetrics.yaml
# A short session timeout lets the restarted run join the mock's group soon.
write_config "$CFG" "$REDIS_PORT" "  idle_advance: 30d
  allowed_lateness: 0s" "  properties:
    session.timeout.ms: \"3000\"
    heartbeat.interval.ms: \"300\"" "plugins:
  - session
  - probe"

# The stream, as JSON Lines (events.jsonl, readable), and what it must
# give (expect.json). Keys are shop:customer and the producer partitions
# by murmur2, so each case's shop is chosen to land on its own partition.
python3 - "$CSM_TMP" "$PARTS" <<'PY'
import datetime, json, sys, time
tmp, parts = sys.argv[1], int(sys.argv[2])

def murmur2(data):  # Kafka's (and librdkafka's murmur2 partitioner)
    m, h = 0x5bd1e995, 0x9747b28c ^ len(data)
    n4 = len(data) // 4
    for i in range(n4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xffffffff
        k ^= k >> 24
        k = (k * m) & 0xffffffff
        h = ((h * m) & 0xffffffff) ^ k
    rest = data[4 * n4:]
    if len(rest) >= 3: h ^= rest[2] << 16
    if len(rest) >= 2: h ^= rest[1] << 8
    if len(rest) >= 1:
        h ^= rest[0]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    return h ^ (h >> 15)

def shop_for(partition):
    n = 0
    while True:
        shop = "T%d" % n
        if (murmur2(("%s:c1" % shop).encode()) & 0x7fffffff) % parts == partition:
            return shop
        n += 1

now = int(time.time() * 1000)
cst = datetime.timezone(datetime.timedelta(hours=8))
day = (datetime.datetime.now(cst) - datetime.timedelta(days=2)).date()
base = int(datetime.datetime(day.year, day.month, day.day, 10, tzinfo=cst).timestamp() * 1000)
DAY = 86400000
poisons = [  # value, what the reason must say
    (1, "horizon"), (0, "range"), (15638400000, "horizon"),  # 1970-07-01
    (4102444800000, "ahead"), (2**63 - 1, "ahead"), (now + 8 * DAY, "ahead")]
positions = [0, 5, 10]  # before the 1st, 6th, after the 10th good chat event

chat, order, expect = [], [], []
for k in range(parts):
    value, kind = poisons[k // 3]
    pos = positions[k % 3]
    shop = shop_for(k)
    common = {"platform": "DOUYIN", "shop_id": shop, "customer_id": "c1"}
    good = []
    for i in range(10):  # customer and agent take turns, a minute apart
        e = dict(common, stream="chat", event_id="%s-c%d" % (shop, i), ts=base + i * 60000,
                 type="MESSAGE", msg_kind="TEXT")
        e.update({"sender": "CUSTOMER"} if i % 2 == 0 else {"sender": "AGENT", "agent_id": "a1"})
        good.append(e)
    poison = dict(common, stream="chat", event_id="%s-poison" % shop, ts=value, type="MESSAGE",
                  sender="CUSTOMER", msg_kind="TEXT")
    chat += good[:pos] + [poison] + good[pos:]
    for j, t in enumerate(["CREATED", "PAID", "SHIPPED", "DELIVERED", "COMPLETED"]):
        order.append(dict(common, stream="order", event_id="%s-o%d" % (shop, j),
                          ts=base + 30000 + j * 120000, order_id="%s-1" % shop, type=t))
    # 10 chat + 5 order events applied, one session (opened by the first
    # customer message; the next ones are within its 15-minute idle time).
    expect.append({"partition": k, "shop": shop, "poison": value, "kind": kind,
                   "day": day.isoformat(), "events": 15, "sessions_started": 1})
with open(tmp + "/events.jsonl", "w") as f:
    for e in chat + order:
        f.write(json.dumps(e) + "\n")
json.dump(expect, open(tmp + "/expect.json", "w"))
PY

"$CSM_BIN" produce -c "$CFG" "$CSM_TMP/events.jsonl" >"$CSM_TMP/produce.log" 2>&1 ||
    fail "produce failed: $(cat "$CSM_TMP/produce.log")"
CHAT=$(topic_total cs.chat.events)
ORDER=$(topic_total cs.order.events)
((CHAT == PARTS * 11 && ORDER == PARTS * 5)) || fail "produced $CHAT chat, $ORDER order events"
log "produced $CHAT chat and $ORDER order events before run starts"

start_run "$CFG" run
dlq_has() {
    "$CSM_DLQ_DUMP" "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq.txt" 2>/dev/null || return 1
    [[ $(wc -l <"$CSM_TMP/dlq.txt") -ge $1 ]]
}
wait_until 90 consumed_all "$REDIS_PORT" "$CHAT" "$ORDER" || fail "not everything consumed"
wait_until 30 dlq_has "$PARTS" || fail "dead letters: $(cat "$CSM_TMP/dlq.txt")"
stop_run 10

# check_all DLQ_FILE: the dead letters and the figures, as derived above.
check_all() {
    python3 - "$1" "$CSM_TMP/expect.json" "$REDIS_PORT" <<'PY'
import json, re, subprocess, sys, time
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
expect = json.load(open(sys.argv[2]))
port = sys.argv[3]
DAY = 86400000
bad = []
if len(rows) != len(expect):
    bad.append("want %d dead letters, got %d" % (len(expect), len(rows)))
by_part = {}
for topic, part, off, reason, key in rows:
    by_part.setdefault(int(part), []).append((topic, reason, key))
now = int(time.time() * 1000)
for x in expect:
    got = by_part.get(x["partition"], [])
    if len(got) != 1:
        bad.append("partition %d: want one dead letter, got %r" % (x["partition"], got))
        continue
    topic, reason, key = got[0]
    ts = x["poison"]
    if topic != "cs.chat.events" or key != x["shop"] + ":c1":
        bad.append("partition %d: dead letter from %s key %s" % (x["partition"], topic, key))
    if x["kind"] == "range":
        ok = reason == "timestamp %d out of range" % ts
    elif x["kind"] == "horizon":
        m = re.fullmatch(r"timestamp %d is older than the horizon \((\d+) days behind the wall "
                         r"clock\)" % ts, reason)
        ok = m is not None and int(m.group(1)) in ((now - ts) // DAY, (now - ts) // DAY - 1)
    else:  # ahead by ts - (wall clock when read): read within the last 10 minutes
        m = re.fullmatch(r"timestamp %d is (\d+) ms ahead of the wall clock \(max_clock_skew "
                         r"3600000 ms\)" % ts, reason)
        ok = m is not None and 0 <= int(m.group(1)) - (ts - now) <= 600000
    if not ok:
        bad.append("partition %d: poison %d: reason %r" % (x["partition"], ts, reason))

def hget(key, field):
    return subprocess.run(["redis-cli", "-p", port, "hget", key, field], capture_output=True,
                          text=True).stdout.strip()
for x in expect:
    key = "csm:{%s}:allday:%s" % (x["shop"], x["day"])
    for field in ("events", "sessions_started"):
        if hget(key, field) != str(x[field]):
            bad.append("%s %s = %r, want %d" % (key, field, hget(key, field), x[field]))
    if hget(key, "out_of_order"):
        bad.append("%s: events applied out of ts order" % key)
if bad:
    sys.exit("\n".join(bad))
PY
}
check_all "$CSM_TMP/dlq.txt" || fail "first run"
! grep -E "late:|from the partition's event time" "$CSM_TMP/run.log" ||
    fail "good events were dead-lettered as late or by the 7-day rule"
log "first run: $PARTS poison events dead-lettered with their reason, no good event lost"

# A restart reads nothing new and must change nothing.
redis_dump "$REDIS_PORT" >"$CSM_TMP/before.txt"
start_run "$CFG" run2
loaded() { [[ $(grep -c "checkpoint loaded" "$CSM_TMP/run2.log") -ge $PARTS ]]; }
wait_until 60 loaded || fail "the restarted run did not load the $PARTS checkpoints"
sleep 2
stop_run 10
redis_dump "$REDIS_PORT" >"$CSM_TMP/after.txt"
diff -u "$CSM_TMP/before.txt" "$CSM_TMP/after.txt" >&2 || fail "the restart changed Redis"
"$CSM_DLQ_DUMP" "$BOOTSTRAP" cs.deadletter >"$CSM_TMP/dlq2.txt"
check_all "$CSM_TMP/dlq2.txt" || fail "after the restart"
log "PASS"
