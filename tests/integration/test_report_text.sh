#!/usr/bin/env bash
# `csmetrics report` as a shop manager reads it, on the scenario of
# data/report_text.jsonl (replayed into a real Redis; every figure derived by
# hand in its comments): the exact text, one agent's figures (--agent), the
# figures of a plugin the core does not know (tests/plugins/probe/parcels.c)
# in the text and the JSON, and an unknown shop refused with the known ones.
source "$(dirname "$0")/lib.sh"
csm_setup
start_redis
: "${CSM_TEST_PLUGIN_DIR:=$CSM_BUILD/tests/plugins}"
CFG=$CSM_TMP/csmetrics.yaml
cat >"$CFG" <<EOF
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  prefix: csm
pipeline:
  horizon: 3650d
schema_dir: "$CSM_SCHEMA_DIR"
plugin_path: "$CSM_TEST_PLUGIN_DIR"
plugins: [session, sla, unserved, satisfaction, fcr, orders, parcels]
EOF
"$CSM_BIN" replay -c "$CFG" "$CSM_TESTS/integration/data/report_text.jsonl" \
    >"$CSM_TMP/replay.log" 2>&1 || fail "replay failed"
grep -q "replayed 26 events: 26 applied" "$CSM_TMP/replay.log" || fail "not every event applied"

# Board: A, B, C in the window (D at 07:00 only all day). Rates: picked up A, C of A, B, C;
# queue (30 + 60) s / 2; first reply <= 2 min A only; first response 30 s (A; C never
# replied); rounds A (answered in 30 s) and C (unanswered); unserved B (offline) + C (no
# reply) of 3; ratings A 5 stars, C 2 stars; refund 6 h; seeker c5, no escalation; parcels
# 3 updates, 2 stalled. Alerts in time order, shop-local, figures in their units.
cat >"$CSM_TMP/want.txt" <<'EOF'
shop T1, 2026-03-10
board: figures anchored in the assessment window; all day: the whole day

                              board                 all day
core monitor
  sessions started                3                       4
  human requested                 3                       3
  picked up                  66.7 %  (2 of 3)        66.7 %  (2 of 3)
  avg queue                  45.0 s  (over 2)        45.0 s  (over 2)
  first reply ≤ 2 min        33.3 %  (1 of 3)        33.3 %  (1 of 3)       below target ≥ 85 %
  avg first response         30.0 s  (over 1)        30.0 s  (over 1)
  reply rounds                    2                       2
  rounds answered                 1                       1
  avg response               30.0 s  (over 1)        30.0 s  (over 1)
  response ≤ 30 s           100.0 %  (1 of 1)       100.0 %  (1 of 1)
  response ≤ 60 s           100.0 %  (1 of 1)       100.0 %  (1 of 1)
  human reply ≤ 3 min        50.0 %  (1 of 2)        50.0 %  (1 of 2)
  unserved                   66.7 %  (2 of 3)        66.7 %  (2 of 3)       above target ≤ 5 %
satisfaction
  invited to rate                 2                       2
  satisfaction               50.0 %  (1 of 2)        50.0 %  (1 of 2)       below target ≥ 80 %
  very satisfied             50.0 %  (1 of 2)        50.0 %  (1 of 2)
  dissatisfied               50.0 %  (1 of 2)        50.0 %  (1 of 2)
  rating rate               100.0 %  (2 of 2)       100.0 %  (2 of 2)
  by split (board)                   presale         aftersale             human             robot
    invited to rate                        2                 0                 2                 0
    satisfaction                  50.0 % 1/2                 -        50.0 % 1/2                 -
    very satisfied                50.0 % 1/2                 -        50.0 % 1/2                 -
    dissatisfied                  50.0 % 1/2                 -        50.0 % 1/2                 -
    rating rate                  100.0 % 2/2                 -       100.0 % 2/2                 -
after-sale
  after-sale served               0                       0
  FCR 3 days                      -                       -
  avg refund time             6.0 h  (over 1)         6.0 h  (over 1)
  after-sale seekers              1                       1
  resolution                100.0 %  (1 of 1)       100.0 %  (1 of 1)
logistics
  parcel updates                  3                       3
  stalled                    66.7 %  (2 of 3)        66.7 %  (2 of 3)       above target ≤ 10 %

per hour (board, shop-local hours)
                               0     1     2     3     4     5     6     7     8     9    10    11
  sessions started             0     0     0     0     0     0     0     0     0     0     1     1
  human requested              0     0     0     0     0     0     0     0     0     0     1     1
  first replies ≤ 2 min        0     0     0     0     0     0     0     0     0     0     1     0
  unserved                     0     0     0     0     0     0     0     0     0     0     0     1
  rated                        0     0     0     0     0     0     0     0     0     0     1     0
  rated 4–5 stars              0     0     0     0     0     0     0     0     0     0     1     0
  parcel updates               0     0     0     0     0     0     0     0     0     0     0     0
                              12    13    14    15    16    17    18    19    20    21    22    23
  sessions started             1     0     0     0     0     0     0     0     0     0     0     0
  human requested              1     0     0     0     0     0     0     0     0     0     0     0
  first replies ≤ 2 min        0     0     0     0     0     0     0     0     0     0     0     0
  unserved                     1     0     0     0     0     0     0     0     0     0     0     0
  rated                        1     0     0     0     0     0     0     0     0     0     0     0
  rated 4–5 stars              0     0     0     0     0     0     0     0     0     0     0     0
  parcel updates               0     1     1     0     1     0     0     0     0     0     0     0

agents (all day)
                                   avg first               human reply unserved: no
  agent                assigned     response avg response      ≤ 3 min        reply satisfaction
  a1                          1       30.0 s       30.0 s      100.0 %            0      100.0 %
  a2                          1            -            -        0.0 %            1        0.0 %

intents: top by sessions                             top by share of dissatisfied ratings
  delivery                                1          delivery                          100.0 %
  size                                    1          size                                0.0 %

alerts: 7, times in Asia/Shanghai
  (an alert is filed under the day of its anchor: the request, reply round or rating
  it is about, so it can be raised on a later day; a 7-day satisfaction alert judges
  the 7 days ending on its day, so it can come on a quiet day)
  2026-03-10 11:02:05  no first reply in time             2.0 min  customer c2
  2026-03-10 11:03:05  not picked up                      3.0 min  customer c2
  2026-03-10 12:02:10  no first reply in time             2.0 min  customer c3  agent a2
  2026-03-10 12:04:10  reply round too long               3.0 min  customer c3  agent a2
  2026-03-10 12:09:30  dissatisfied rating                2 stars  customer c3  agent a2
  2026-03-10 12:10:00  unserved session                   9.8 min  customer c3  agent a2
  2026-03-12 00:00:00  7-day satisfaction under target    50.00 %  filed under 2026-03-10
EOF
"$CSM_BIN" report -c "$CFG" --shop T1 --day 2026-03-10 >"$CSM_TMP/got.txt" \
    2>"$CSM_TMP/report.log" || fail "report failed"
diff -u "$CSM_TMP/want.txt" "$CSM_TMP/got.txt" >&2 || fail "the text report differs"
awk 'length > 100 { exit 1 }' "$CSM_TMP/got.txt" || fail "a line is wider than 100 columns"
log "text report as expected"

# Agent a2 (all day): assigned C; C's round unanswered; C unserved (no reply); C invited and
# rated 2 stars; the four alerts of C.
cat >"$CSM_TMP/want_a2.txt" <<'EOF'
shop T1, 2026-03-10

agent a2 (all day)
  assigned                        1
  avg first response              -
  reply rounds                    1
  rounds answered                 0
  avg response                    -
  response ≤ 30 s                 -
  response ≤ 60 s                 -
  human reply ≤ 3 min         0.0 %  (0 of 1)
  unserved: no reply              1
  invited to rate                 1
  satisfaction                0.0 %  (0 of 1)
  very satisfied              0.0 %  (0 of 1)
  rating rate               100.0 %  (1 of 1)

alerts: 4 of this agent, times in Asia/Shanghai
  (an alert is filed under the day of its anchor: the request, reply round or rating
  it is about, so it can be raised on a later day; a 7-day satisfaction alert judges
  the 7 days ending on its day, so it can come on a quiet day)
  2026-03-10 12:02:10  no first reply in time             2.0 min  customer c3  agent a2
  2026-03-10 12:04:10  reply round too long               3.0 min  customer c3  agent a2
  2026-03-10 12:09:30  dissatisfied rating                2 stars  customer c3  agent a2
  2026-03-10 12:10:00  unserved session                   9.8 min  customer c3  agent a2
EOF
"$CSM_BIN" report -c "$CFG" --shop T1 --day 2026-03-10 --agent a2 >"$CSM_TMP/got_a2.txt" \
    2>>"$CSM_TMP/report.log" || fail "report --agent failed"
diff -u "$CSM_TMP/want_a2.txt" "$CSM_TMP/got_a2.txt" >&2 || fail "the agent's report differs"
log "agent report as expected"

# The plugin's figures in the JSON, beside the operations.md ones.
"$CSM_BIN" report -c "$CFG" --shop T1 --day 2026-03-10 --json >"$CSM_TMP/report.json" \
    2>>"$CSM_TMP/report.log" || fail "report --json failed"
python3 - "$CSM_TMP/report.json" <<'PY' || fail "the JSON lacks the declared figures"
import json, sys
d = json.load(open(sys.argv[1]))
for block in ("board", "allday"):
    b = d[block]
    assert b["parcel_updates"] == 3 and b["parcel_stalls"] == 2, b
    assert abs(b["parcel_stall_rate"] - 2 / 3) < 1e-12, b
    want = [0] * 24
    want[13] = want[14] = want[16] = 1
    assert b["hourly"]["parcel_updates"] == want, b["hourly"]
    assert b["sessions_started"] == (3 if block == "board" else 4)
    assert b["satisfaction_rate"] == 0.5 and b["avg_refund_ms"] == 21600000
PY
log "declared figures in the JSON"

# A range sums the days: c9's session of 03-12 00:30 is all-day only; the 7 alerts of 03-10
# and the 7-day satisfaction alerts of 03-11 and 03-12.
"$CSM_BIN" report -c "$CFG" --shop T1 --day 2026-03-10 --to 2026-03-12 --json \
    >"$CSM_TMP/range.json" 2>>"$CSM_TMP/report.log" || fail "report --to failed"
python3 - "$CSM_TMP/range.json" <<'PY' || fail "the range's JSON is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["day"], d["to"]) == ("2026-03-10", "2026-03-12"), d
assert d["board"]["sessions_started"] == 3 and d["allday"]["sessions_started"] == 5
assert d["board"]["parcel_updates"] == 3 and len(d["alerts"]) == 9
sbt = [(a["day"], a["figure"]) for a in d["alerts"] if a["type"] == "SATISFACTION_BELOW_TARGET"]
assert sbt == [("2026-03-10", 5000), ("2026-03-11", 5000), ("2026-03-12", 5000)], sbt
PY
"$CSM_BIN" report -c "$CFG" --shop T1 --day 2026-03-10 --to 2026-03-12 >"$CSM_TMP/range.txt" \
    2>>"$CSM_TMP/report.log" || fail "report --to (text) failed"
head -1 "$CSM_TMP/range.txt" |
    grep -qx "shop T1, 2026-03-10 .. 2026-03-12 (counters summed, rates from the sums)" ||
    fail "range header: $(head -1 "$CSM_TMP/range.txt")"
grep -q "^  sessions started                3                       5$" "$CSM_TMP/range.txt" ||
    fail "range: sessions started"
log "range as expected"

# The same Redis read with the default chain: no plugin declares them, no reader shows them.
sed 's/, parcels\]/]/' "$CFG" >"$CSM_TMP/default.yaml"
"$CSM_BIN" report -c "$CSM_TMP/default.yaml" --shop T1 --day 2026-03-10 --json \
    >"$CSM_TMP/default.json" 2>>"$CSM_TMP/report.log" || fail "report (default chain) failed"
python3 -c 'import json, sys; b = json.load(open(sys.argv[1]))["board"]
sys.exit("parcel_updates" in b or b["sessions_started"] != 3)' "$CSM_TMP/default.json" ||
    fail "the default chain's report shows figures no plugin of it declares"
"$CSM_BIN" report -c "$CSM_TMP/default.yaml" --shop T1 --day 2026-03-10 >"$CSM_TMP/default.txt" \
    2>>"$CSM_TMP/report.log" || fail "report (default chain) failed"
! grep -q "parcel\|logistics" "$CSM_TMP/default.txt" || fail "parcels shown without the plugin"
log "figures follow the chain"

# An unknown shop is an error naming the known ones.
rc=0
"$CSM_BIN" report -c "$CFG" --shop T2 --day 2026-03-10 >"$CSM_TMP/t2.out" 2>"$CSM_TMP/t2.err" ||
    rc=$?
[[ $rc -eq 2 ]] || fail "unknown shop: exit $rc, want 2"
[[ ! -s $CSM_TMP/t2.out ]] || fail "unknown shop: something printed on stdout"
grep -qx "csmetrics report: unknown shop 'T2' (known shops: T1)" "$CSM_TMP/t2.err" ||
    fail "unknown shop: $(cat "$CSM_TMP/t2.err")"
rc=0
"$CSM_BIN" report -c "$CFG" --shop T2 --day 2026-03-10 --json >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "unknown shop (--json): exit $rc, want 2"
log "unknown shop refused"
log "PASS"
