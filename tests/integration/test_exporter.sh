#!/usr/bin/env bash
# `csmetrics exporter` against a real Redis fed by `csmetrics replay` of
# data/exporter.jsonl (two shops, figures derived by hand in its comments):
# /metrics serves exactly those figures as gauges, for --day and for each
# shop's own current local day (the shops are 25 hours apart), per agent
# with --agents; a scrape opens one Redis connection; Redis down gives
# csmetrics_exporter_redis_up 0 and no figures, and the next scrape after
# it is back works again; promtool parses the page; SIGTERM exits 0.
source "$(dirname "$0")/lib.sh"
csm_setup
start_redis
BOOTSTRAP=127.0.0.1:9 # no broker: replay and the exporter need none
command -v promtool >/dev/null || fail "promtool not installed (Debian package prometheus)"

DATA=$CSM_TESTS/integration/data/exporter.jsonl
CFG=$CSM_TMP/csmetrics.yaml
# max_clock_skew 2d: the copy shifted to today has events up to a day
# ahead of the wall clock in UTC+14. day_ttl_days: the scenario's day must
# not have expired whenever this runs.
write_config "$CFG" "$REDIS_PORT" "  max_clock_skew: 2d" "" "time:
  timezone: Pacific/Kiritimati
shops:
  S2:
    timezone: Pacific/Pago_Pago
    satisfaction_target: 0.9"
sed -i 's/^  prefix: csm$/  prefix: csm\n  day_ttl_days: 3650/' "$CFG"

"$CSM_BIN" replay -c "$CFG" --quiet "$DATA" >"$CSM_TMP/replay.log" 2>&1 ||
    fail "replay failed: $(cat "$CSM_TMP/replay.log")"

# start_exporter NAME ARGS...: sets EXP_PORT and EXP_PID once /healthz answers.
start_exporter() {
    local name=$1
    shift
    EXP_PORT=$(free_port)
    "$CSM_BIN" exporter -c "$CFG" --port "$EXP_PORT" "$@" >>"$CSM_TMP/$name.log" 2>&1 &
    EXP_PID=$!
    CSM_PIDS+=($EXP_PID)
    wait_until 10 curl -sf "http://127.0.0.1:$EXP_PORT/healthz" -o /dev/null ||
        fail "$name: /healthz does not answer"
}

stop_exporter() {
    local rc=0
    kill -TERM "$EXP_PID"
    wait "$EXP_PID" || rc=$?
    [[ $rc -eq 0 ]] || fail "exporter exited $rc after SIGTERM"
}

scrape() {
    curl -sf "http://127.0.0.1:$EXP_PORT/metrics" -o "$1" || fail "GET /metrics failed"
}

# check_page FILE AGENTS DAY_S1 DAY_S2 REDIS_UP: the page holds exactly the
# hand-derived figures (data/exporter.jsonl) and nothing else.
check_page() {
    python3 - "$@" <<'PY' || fail "$1: figures differ (above)"
import re, sys
path, agents, day1, day2, up = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4], sys.argv[5]

BOARD_COUNTERS = ["sessions_started", "human_requested", "assigned", "queue_ms_sum",
    "first_reply_2m", "first_resp_ms_sum", "first_resp_n", "rounds", "rounds_answered",
    "resp_ms_sum", "resp_30s", "resp_60s", "resp_3m", "unserved_offline", "unserved_noreply",
    "invited", "rated", "rated_4_5", "rated_5", "rated_1_2", "fcr_served", "fcr_repeated",
    "refunds_finished", "refund_ms_sum", "aftersale_seekers", "escalations"]
AGENT_COUNTERS = ["assigned", "first_resp_ms_sum", "first_resp_n", "rounds", "rounds_answered",
    "resp_ms_sum", "resp_30s", "resp_60s", "resp_3m", "unserved_noreply", "invited", "rated",
    "rated_4_5", "rated_5"]

def filled(counters, given):
    d = {c: 0 for c in counters}
    d.update(given)
    return d

# Counters absent here are 0; rates absent here are null (omitted).
s1 = filled(BOARD_COUNTERS, dict(sessions_started=4, human_requested=4, assigned=3,
    pickup_rate=3/4, queue_ms_sum=120000, avg_queue_ms=40000, first_reply_2m=1,
    first_reply_2m_rate=1/4, first_resp_ms_sum=150000, first_resp_n=2, avg_first_resp_ms=75000,
    rounds=3, rounds_answered=2, resp_ms_sum=150000, avg_resp_ms=75000, resp_30s=1, resp_60s=1,
    resp_3m=2, resp_30s_rate=1/2, resp_60s_rate=1/2, human_reply_3m_rate=2/3,
    unserved_offline=1, unserved_noreply=1, unserved_rate=2/4, invited=2, rated=2, rated_4_5=1,
    rated_5=1, rated_1_2=1, satisfaction_rate=1/2, very_satisfied_rate=1/2,
    dissatisfied_rate=1/2, rating_rate=1))
s2 = filled(BOARD_COUNTERS, dict(sessions_started=2, human_requested=2, assigned=1,
    pickup_rate=1/2, queue_ms_sum=10000, avg_queue_ms=10000, first_reply_2m=1,
    first_reply_2m_rate=1/2, first_resp_ms_sum=30000, first_resp_n=1, avg_first_resp_ms=30000,
    rounds=1, rounds_answered=1, resp_ms_sum=30000, avg_resp_ms=30000, resp_30s=1, resp_60s=1,
    resp_3m=1, resp_30s_rate=1, resp_60s_rate=1, human_reply_3m_rate=1, unserved_rate=0,
    invited=1, rated=1, rated_4_5=1, satisfaction_rate=1, very_satisfied_rate=0,
    dissatisfied_rate=0, rating_rate=1))
a1 = filled(AGENT_COUNTERS, dict(assigned=2, first_resp_ms_sum=30000, first_resp_n=1,
    avg_first_resp_ms=30000, rounds=2, rounds_answered=1, resp_ms_sum=30000, avg_resp_ms=30000,
    resp_30s=1, resp_60s=1, resp_3m=1, resp_30s_rate=1, resp_60s_rate=1,
    human_reply_3m_rate=1/2, unserved_noreply=1, invited=1, rated=1, rated_4_5=1, rated_5=1,
    satisfaction_rate=1, very_satisfied_rate=1, rating_rate=1))
a2 = filled(AGENT_COUNTERS, dict(assigned=1, first_resp_ms_sum=120000, first_resp_n=1,
    avg_first_resp_ms=120000, rounds=1, rounds_answered=1, resp_ms_sum=120000,
    avg_resp_ms=120000, resp_3m=1, resp_30s_rate=0, resp_60s_rate=0, human_reply_3m_rate=1,
    invited=1, rated=1, satisfaction_rate=0, very_satisfied_rate=0, rating_rate=1))
b1 = filled(AGENT_COUNTERS, dict(assigned=1, first_resp_ms_sum=30000, first_resp_n=1,
    avg_first_resp_ms=30000, rounds=1, rounds_answered=1, resp_ms_sum=30000, avg_resp_ms=30000,
    resp_30s=1, resp_60s=1, resp_3m=1, resp_30s_rate=1, resp_60s_rate=1,
    human_reply_3m_rate=1, invited=1, rated=1, rated_4_5=1, satisfaction_rate=1,
    very_satisfied_rate=0, rating_rate=1))

want = {}
def put(prefix, figures, **labels):
    for name, v in figures.items():
        want[(prefix + name, tuple(sorted(labels.items())))] = float(v)
if up == "1":
    put("csmetrics_board_", s1, shop="S1", day=day1)
    put("csmetrics_board_", s2, shop="S2", day=day2)
    if agents:
        put("csmetrics_agent_", a1, shop="S1", day=day1, agent="a1")
        put("csmetrics_agent_", a2, shop="S1", day=day1, agent="a2")
        put("csmetrics_agent_", b1, shop="S2", day=day2, agent='b"1\\')
    want[("csmetrics_shop_satisfaction_target", (("shop", "S1"),))] = 0.8
    want[("csmetrics_shop_satisfaction_target", (("shop", "S2"),))] = 0.9
want[("csmetrics_exporter_redis_up", ())] = float(up)
want[("csmetrics_exporter_shops", ())] = 2.0 if up == "1" else 0.0

got, typed = {}, set()
sample = re.compile(r'^([a-z_0-9]+)(?:\{(.*)\})? (\S+)$')
for line in open(path):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        name, kind = line.split()[2:4]
        if kind != "gauge":
            sys.exit(f"{name} is a {kind}, want gauge")
        typed.add(name)
        continue
    if line.startswith("#") or not line:
        continue
    m = sample.match(line)
    if not m:
        sys.exit(f"not a sample line: {line!r}")
    name, labels, value = m.groups()
    if name not in typed:
        sys.exit(f"{name}: sample before its # TYPE")
    unescape = lambda v: re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)
    lab = tuple(sorted((k, unescape(v))
                       for k, v in re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', labels or "")))
    if name == "csmetrics_exporter_scrape_duration_seconds":
        continue  # a duration: no value to expect
    got[(name, lab)] = float(value)

bad = 0
for k in sorted(set(want) | set(got)):
    if want.get(k) != got.get(k):
        print(f"{k[0]}{dict(k[1])}: got {got.get(k)}, want {want.get(k)}")
        bad = 1
sys.exit(bad)
PY
}

# promtool parses the page; its only remarks are about names, which are
# metrics.md's (queue_ms_sum, avg_resp_ms: docs/running.md).
check_promtool() {
    local out
    out=$(promtool check metrics <"$1" 2>&1) || true
    grep -q "error while linting" <<<"$out" && fail "promtool cannot parse $1: $out"
    if grep -v -e 'metric names should not contain abbreviated units' \
        -e 'non-histogram and non-summary metrics should not have "_sum" suffix' <<<"$out" |
        grep -q .; then
        fail "promtool: $out"
    fi
}

# 1. --day, --agents: both shops' figures of 2026-11-20.
start_exporter exporter-day --day 2026-11-20 --agents
scrape "$CSM_TMP/day.prom"
check_page "$CSM_TMP/day.prom" 1 2026-11-20 2026-11-20 1
check_promtool "$CSM_TMP/day.prom"
log "--day --agents: every figure of both shops as derived by hand"

# The deploy files name only metrics and labels this page (or the daemon) has;
# the checker does see a name that is not there.
CHECK=$CSM_TESTS/tools/check_deploy_metrics.py
RULES=$CSM_ROOT/deploy/prometheus/csmetrics-rules.yml
DASH=$CSM_ROOT/deploy/grafana/csmetrics.json
python3 "$CHECK" "$CSM_TMP/day.prom" "$RULES" "$DASH" || fail "deploy files name unknown metrics"
sed 's/csmetrics_board_unserved_rate/csmetrics_board_unserved_ratio/' "$RULES" >"$CSM_TMP/bad-rules.yml"
sed 's/by (partition)/by (partition, shop)/' "$DASH" >"$CSM_TMP/bad-dash.json"
for bad in "$CSM_TMP/bad-rules.yml $DASH" "$RULES $CSM_TMP/bad-dash.json"; do
    # shellcheck disable=SC2086
    if python3 "$CHECK" "$CSM_TMP/day.prom" $bad >"$CSM_TMP/check-bad.log"; then
        fail "check_deploy_metrics accepted $bad"
    fi
done
log "rules and dashboard name only exported or daemon metrics"

# One Redis connection per scrape: redis-cli's own INFO is one more.
conns() { rcli "$REDIS_PORT" info stats | sed -n 's/^total_connections_received:\([0-9]*\).*/\1/p'; }
before=$(conns)
scrape "$CSM_TMP/again.prom"
after=$(conns)
[[ $((after - before)) -eq 2 ]] || fail "a scrape opened $((after - before - 1)) connections, want 1"
stop_exporter

# 2. Each shop's current local day: the same events shifted to today in
# each shop's zone (neither has DST, so shifting by whole days keeps the
# local times).
shop_days() {
    python3 -c '
from datetime import datetime
from zoneinfo import ZoneInfo
print(*(datetime.now(ZoneInfo(z)).date().isoformat() for z in ("Pacific/Kiritimati", "Pacific/Pago_Pago")))'
}
# today_copy DAY1 DAY2: the scenario moved to those days, in $CSM_TMP/today-DAY1-DAY2.jsonl.
today_copy() {
    python3 - "$DATA" "$CSM_TMP/today-$1-$2.jsonl" "$1" "$2" <<'PY'
import json, sys
from datetime import date
shift = {s: (date.fromisoformat(d) - date(2026, 11, 20)).days * 86400000
         for s, d in (("S1", sys.argv[3]), ("S2", sys.argv[4]))}
events = [json.loads(line) for line in open(sys.argv[1]) if not line.startswith("#")]
for e in events:
    e["ts"] += shift[e["shop_id"]]
    e["event_id"] = "today-" + e["event_id"]
# The shops moved by different numbers of days: in ts order again, or one
# shop's events would be late behind the other's.
events.sort(key=lambda e: e["ts"])
with open(sys.argv[2], "w") as out:
    out.writelines(json.dumps(e) + "\n" for e in events)
PY
}
start_exporter exporter-today
# A shop-local midnight between the copy and the scrape makes the scrape
# read the new day: then the round is done again for it.
for round in 1 2; do
    read -r DAY1 DAY2 <<<"$(shop_days)"
    [[ $DAY1 != 2026-11-20 && $DAY2 != 2026-11-20 ]] || fail "today is the scenario's day: check the clock"
    today_copy "$DAY1" "$DAY2"
    TODAY=$CSM_TMP/today-$DAY1-$DAY2.jsonl
    "$CSM_BIN" replay -c "$CFG" --quiet "$TODAY" >"$CSM_TMP/replay-today.log" 2>&1 ||
        fail "replay of today's copy failed: $(cat "$CSM_TMP/replay-today.log")"
    scrape "$CSM_TMP/today.prom"
    [[ $(shop_days) == "$DAY1 $DAY2" ]] && break
    ((round < 2)) || fail "shop days keep turning during the test"
done
check_page "$CSM_TMP/today.prom" 0 "$DAY1" "$DAY2" 1
log "no --day: S1's figures of $DAY1 (UTC+14), S2's of $DAY2 (UTC-11); no agents without --agents"

# 3. Redis down: a page without figures; back: figures again.
REDIS_PID=${CSM_PIDS[0]}
kill -TERM "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
scrape "$CSM_TMP/down.prom"
check_page "$CSM_TMP/down.prom" 0 - - 0
curl -sf "http://127.0.0.1:$EXP_PORT/healthz" -o /dev/null || fail "/healthz fails while Redis is down"
grep -q "ERROR exporter: scrape: redis" "$CSM_TMP/exporter-today.log" ||
    fail "no ERROR line for the failed scrape"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize no --dir "$CSM_TMP" >"$CSM_TMP/redis-again.log" 2>&1 &
CSM_PIDS+=($!)
wait_until 10 rcli "$REDIS_PORT" ping >/dev/null 2>&1 || fail "redis-server did not restart"
"$CSM_BIN" replay -c "$CFG" --quiet "$TODAY" >"$CSM_TMP/replay-again.log" 2>&1 ||
    fail "replay into the restarted Redis failed: $(cat "$CSM_TMP/replay-again.log")"
scrape "$CSM_TMP/back.prom"
check_page "$CSM_TMP/back.prom" 0 "$DAY1" "$DAY2" 1
log "Redis down: csmetrics_exporter_redis_up 0, no figures, /healthz 200; back: figures again"
stop_exporter
log "exporter: all checks passed"
