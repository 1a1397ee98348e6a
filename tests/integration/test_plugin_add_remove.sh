#!/usr/bin/env bash
# A plugin added to and removed from a running deployment (docs/running.md,
# "Adding or removing a plugin"): the checkpoint is per plugin, by name.
#  A. chain [tally]: customers c1 c2 c3 c4 c1;
#  B. chain [probe, tally] (probe added, and first): c1 c2 c5. probe starts
#     empty at the current offsets (logged); tally goes on where it stood;
#  C. chain [tally] (probe removed): c5 c6. A warning; probe's state is
#     deleted at the next flush; tally goes on;
#  D. a tally that reads an older state version than the stored one refuses
#     to start, naming the plugin.
# Figures by hand (shop S1, day 2026-03-11): tally counts every event in
# tally_events and a customer's second and later ones in tally_repeat; probe
# counts the events it was given in "events".
#   after A: tally_events 5, tally_repeat 1 (c1)
#   after B: tally_events 8, tally_repeat 3 (c1 again, c2 again), probe events 3
#   after C: tally_events 10, tally_repeat 4 (c5 again), probe events still 3
# An uninterrupted run of tally over the 10 events gives the same figures.
source "$(dirname "$0")/lib.sh"
csm_setup
TEST_PLUGINS=${CSM_TEST_PLUGIN_DIR:-$(dirname "$CSM_BIN")/../tests/plugins}
[[ -f $TEST_PLUGINS/tally.so ]] || fail "test plugins not built in $TEST_PLUGINS"
export CSM_PLUGIN_PATH="$CSM_PLUGIN_PATH:$TEST_PLUGINS"
start_redis
start_broker 2

T0=1773194400000 # 2026-03-11T10:00:00+08:00
DAY=2026-03-11
# A short session timeout: each phase's member replaces the last one's fast.
config() { # FILE PLUGINS
    write_config "$1" "$REDIS_PORT" "  idle_advance: 1s
  horizon: 3650d" "  properties:
    session.timeout.ms: \"3000\"
    heartbeat.interval.ms: \"300\"" "plugins: [$2]"
}
config "$CSM_TMP/a.yaml" "tally"
config "$CSM_TMP/b.yaml" "probe, tally"

events() { # FILE OFFSET_MS ID_PREFIX CUSTOMER...
    local file=$1 at=$2 prefix=$3 i=0 c
    shift 3
    : >"$file"
    for c in "$@"; do
        printf '{"stream":"chat","event_id":"%s%d","platform":"DOUYIN","shop_id":"S1","customer_id":"%s","ts":%d,"type":"MESSAGE","sender":"CUSTOMER","msg_kind":"TEXT"}\n' \
            "$prefix" "$i" "$c" $((T0 + at + i * 10000)) >>"$file"
        i=$((i + 1))
    done
}
allday() { rcli "$REDIS_PORT" hget "csm:{S1}:allday:$DAY" "$1"; }
figures_are() { # TALLY_EVENTS TALLY_REPEAT PROBE_EVENTS
    [[ $(allday tally_events) == "$1" && $(allday tally_repeat) == "$2" &&
        $(allday events) == "$3" ]]
}
phase() { # NAME CONFIG EVENTS_FILE CHAT_TOTAL WANT...
    local name=$1 cfg=$2 file=$3 total=$4
    shift 4
    produce_file "$cfg" "$file" "$total"
    start_run "$cfg" "run-$name"
    wait_until 60 figures_are "$@" ||
        fail "phase $name: tally_events=$(allday tally_events) tally_repeat=$(allday tally_repeat) events=$(allday events), want $*"
    stop_run 10
}

events "$CSM_TMP/a.jsonl" 0 a c1 c2 c3 c4 c1
phase A "$CSM_TMP/a.yaml" "$CSM_TMP/a.jsonl" 5 5 1 ""
[[ -z $(rcli "$REDIS_PORT" --scan --pattern 'csm:{csm:ckpt:*}:state:probe') ]] ||
    fail "probe has state before it was added"

events "$CSM_TMP/b.jsonl" 3600000 b c1 c2 c5
phase B "$CSM_TMP/b.yaml" "$CSM_TMP/b.jsonl" 8 8 3 3
grep -q "plugin 'probe' is new to this checkpoint: its figures start at offsets cs.chat.events" \
    "$CSM_TMP/run-B.log" || fail "the new plugin was not logged"
grep -q "plugin 'tally' is new" "$CSM_TMP/run-B.log" && fail "tally taken for a new plugin"
[[ -n $(rcli "$REDIS_PORT" --scan --pattern 'csm:{csm:ckpt:*}:state:probe') ]] ||
    fail "probe wrote no state"

events "$CSM_TMP/c.jsonl" 7200000 c c5 c6
phase C "$CSM_TMP/a.yaml" "$CSM_TMP/c.jsonl" 10 10 4 3
grep -q "WARN.*plugin 'probe' has state in the checkpoint but is not in the chain: its state is dropped at the next flush" \
    "$CSM_TMP/run-C.log" || fail "the removed plugin was not warned about"
left=$(rcli "$REDIS_PORT" --scan --pattern 'csm:{csm:ckpt:*}:state:probe')
[[ -z $left ]] || fail "probe's state is still there: $left"
for k in $(rcli "$REDIS_PORT" --scan --pattern 'csm:ckpt:*'); do
    [[ $(rcli "$REDIS_PORT" hget "$k" plugins) == "tally=1" ]] ||
        fail "$k lists plugins $(rcli "$REDIS_PORT" hget "$k" plugins)"
done

# D. The stored tally state is version 1; a tally reading only version 0
# must refuse rather than misread it.
CSM_TALLY_STATE_VERSION=0 start_run "$CSM_TMP/a.yaml" run-D
wait_until 90 eval '! kill -0 $RUN_PID 2>/dev/null' || fail "run D did not stop"
rc=0
wait "$RUN_PID" || rc=$?
((rc == 1)) || fail "run D exited $rc, want 1"
grep -q "plugin 'tally' cannot read its state: it was written with state version 1, this plugin (version 1) reads state version 0 and older" \
    "$CSM_TMP/run-D.log" || fail "the refusal does not name the plugin and both versions"
[[ $(allday tally_events) == 10 ]] || fail "run D changed figures"
log "PASS"
