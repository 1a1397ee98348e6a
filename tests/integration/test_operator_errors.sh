#!/usr/bin/env bash
# A careless operator: `config -c` refuses every file `run` would refuse,
# naming the key; Redis refusing the configuration (no such database,
# wrong password, password missing) stops `run` at once with exit 1; a
# file replayed twice into the same Redis is refused unless --force, which
# then adds exactly its figures a second time.
source "$(dirname "$0")/lib.sh"
csm_setup
start_redis
BOOTSTRAP=127.0.0.1:9 # no broker: nothing here gets as far as Kafka

# A second Redis that wants a password.
SECRET_PORT=$(free_port)
redis-server --port "$SECRET_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --requirepass sesame --dir "$CSM_TMP" >"$CSM_TMP/redis-secret.log" 2>&1 &
CSM_PIDS+=($!)
wait_until 10 redis-cli -p "$SECRET_PORT" -a sesame --no-auth-warning ping >/dev/null 2>&1 ||
    fail "protected redis-server did not start"

CFG=$CSM_TMP/csmetrics.yaml
write_config "$CFG" "$REDIS_PORT"
"$CSM_BIN" config -c "$CFG" >"$CSM_TMP/config-ok.log" 2>&1 ||
    fail "the base configuration is refused: $(cat "$CSM_TMP/config-ok.log")"

# bad NAME WANT PIPELINE_YAML KAFKA_YAML TOP_YAML: `config -c` must exit
# non-zero with WANT (which names the key) in its message.
bad() {
    local name=$1 want=$2 file=$CSM_TMP/bad-$1.yaml rc=0
    write_config "$file" "$REDIS_PORT" "${3:-}" "${4:-}" "${5:-}"
    "$CSM_BIN" config -c "$file" >"$CSM_TMP/bad-$name.out" 2>&1 || rc=$?
    [[ $rc -ne 0 ]] || fail "config -c accepted $name"
    grep -qF -- "$want" "$CSM_TMP/bad-$name.out" ||
        fail "$name: message lacks '$want': $(cat "$CSM_TMP/bad-$name.out")"
}
bad unknown_plugin "plugin 'nosuch': not found" "" "" "plugins: [session, nosuch]"
bad plugin_key "plugins.sla.first_respons_timeout: unknown key" "" "" \
    "plugins: [session, {name: sla, first_respons_timeout: 5s}]"
bad timezone "time.timezone: unknown time zone 'Mars/Olympus'" "" "" \
    "time: {timezone: Mars/Olympus}"
bad kafka_property "kafka.properties.session.timeout.mss: No such configuration property" "" \
    "  properties: {session.timeout.mss: 3000}"
bad schema_dir "schema_dir: '$CSM_TMP/no-schemas'" "" "" "schema_dir: $CSM_TMP/no-schemas"
bad group_id "kafka.group_id: must not be empty" "" "  group_id: \"\""
bad flush_max_events "pipeline.flush_max_events: must be between 1 and" "  flush_max_events: 0"
bad max_event_age "pipeline.max_event_age: must be between 1h and 365d, got 0" \
    "  max_event_age: 0"
bad allowed_lateness "pipeline.allowed_lateness: expected a duration up to 3650d" \
    "  allowed_lateness: 200000000000d"
bad same_topics "kafka.order_topic: 'cs.chat.events' is already kafka.chat_topic" "" \
    "  order_topic: cs.chat.events"
bad deadletter_input "kafka.deadletter_topic: 'cs.order.events' is already kafka.order_topic" \
    "" "  deadletter_topic: cs.order.events"
bad empty_chain "plugins: the list is empty" "" "" "plugins: []"
bad needs "plugin 'sla' needs 'session' before it in the chain" "" "" "plugins: [sla, session]"
rc=0
"$CSM_BIN" config -c "$CSM_TMP" >"$CSM_TMP/bad-dir.out" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && grep -q "is a directory, not a configuration file" "$CSM_TMP/bad-dir.out" ||
    fail "a directory as -c: rc=$rc $(cat "$CSM_TMP/bad-dir.out")"
log "config -c: 14 bad files refused, each naming its key"

# run_refused NAME WANT: `run` on CSM_TMP/NAME.yaml exits 1 within 5 s,
# saying WANT.
run_refused() {
    local name=$1 want=$2 rc=0 t0=$SECONDS
    timeout 10 "$CSM_BIN" run -c "$CSM_TMP/$name.yaml" >"$CSM_TMP/$name.log" 2>&1 || rc=$?
    [[ $rc -eq 1 ]] || fail "$name: run exited $rc, want 1: $(cat "$CSM_TMP/$name.log")"
    ((SECONDS - t0 <= 5)) || fail "$name: run took $((SECONDS - t0)) s to give up"
    grep -qF -- "$want" "$CSM_TMP/$name.log" ||
        fail "$name: log lacks '$want': $(cat "$CSM_TMP/$name.log")"
}
write_config "$CSM_TMP/db99.yaml" "$REDIS_PORT"
sed -i 's/^  prefix: csm$/  prefix: csm\n  db: 99/' "$CSM_TMP/db99.yaml"
run_refused db99 "SELECT: ERR DB index is out of range (check redis.db)"
write_config "$CSM_TMP/wrongpass.yaml" "$SECRET_PORT"
sed -i 's/^  prefix: csm$/  prefix: csm\n  password: open-sesame/' "$CSM_TMP/wrongpass.yaml"
run_refused wrongpass "AUTH: WRONGPASS"
write_config "$CSM_TMP/nopass.yaml" "$SECRET_PORT"
run_refused nopass "PING: NOAUTH Authentication required."
write_config "$CSM_TMP/nouser.yaml" "$SECRET_PORT"
sed -i 's/^  prefix: csm$/  prefix: csm\n  username: nobody\n  password: sesame/' \
    "$CSM_TMP/nouser.yaml"
run_refused nouser "AUTH: WRONGPASS"
log "run: db 99, wrong password, no password, unknown user: exit 1 at once"

# The replay guard, on the events of data/pipeline.jsonl (figures derived by
# hand there: 4 sessions started, 3 human requests, 3 assigned, 110 s queued).
DATA=$CSM_TESTS/integration/data/pipeline.jsonl
board="csm:{S1}:board:2026-03-10"
board_is() {
    local got
    got="$(rcli "$REDIS_PORT" hget "$board" sessions_started) $(rcli "$REDIS_PORT" hget "$board" \
        human_requested) $(rcli "$REDIS_PORT" hget "$board" assigned) $(rcli "$REDIS_PORT" hget \
        "$board" queue_ms_sum)"
    [[ $got == "$1" ]] || fail "board after $2: '$got', want '$1'"
}
"$CSM_BIN" replay -c "$CFG" --quiet "$DATA" >"$CSM_TMP/replay1.log" 2>&1 ||
    fail "first replay failed: $(cat "$CSM_TMP/replay1.log")"
board_is "4 3 3 110000" "one replay"
redis_dump "$REDIS_PORT" >"$CSM_TMP/dump1.txt"

rc=0
"$CSM_BIN" replay -c "$CFG" --quiet "$DATA" >"$CSM_TMP/replay2.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "second replay exited $rc, want 1"
grep -qF "$DATA was already replayed into this Redis at " "$CSM_TMP/replay2.log" &&
    grep -qF -- "--force" "$CSM_TMP/replay2.log" ||
    fail "refusal does not name the file, when, and --force: $(cat "$CSM_TMP/replay2.log")"
board_is "4 3 3 110000" "a refused replay"

"$CSM_BIN" replay -c "$CFG" --quiet --force "$DATA" >"$CSM_TMP/replay3.log" 2>&1 ||
    fail "forced replay failed: $(cat "$CSM_TMP/replay3.log")"
board_is "8 6 6 220000" "a forced second replay"
# Every counter of every hash doubled; sets are unchanged (the replay
# records are checked below).
redis_dump "$REDIS_PORT" >"$CSM_TMP/dump2.txt"
python3 - "$CSM_TMP/dump1.txt" "$CSM_TMP/dump2.txt" <<'PY' || fail "forced replay did not double exactly"
import sys
def parse(path):
    keys, cur = {}, None
    for line in open(path):
        if line.startswith("  "):
            keys[cur][1].append(line.strip())
        else:
            name, kind = line.split()[:2]
            cur = name
            keys[cur] = (kind, [])
    return keys
a, b = parse(sys.argv[1]), parse(sys.argv[2])
for d in (a, b):
    for k in [k for k in d if ":replayed:" in k]:
        del d[k]
bad = []
if not any(kind == "hash" for kind, _ in a.values()):
    bad.append("no hash to compare")
if set(a) != set(b):
    bad.append("keys differ: %s" % sorted(set(a) ^ set(b)))
for k, (kind, body) in a.items():
    if k not in b:
        continue
    if kind == "hash":
        one = dict(f.split("=", 1) for f in body)
        two = dict(f.split("=", 1) for f in b[k][1])
        for f, v in one.items():
            if int(two.get(f, "0")) != 2 * int(v):
                bad.append("%s %s: %s then %s" % (k, f, v, two.get(f)))
    elif kind == "set" and body != b[k][1]:
        bad.append("%s: set changed" % k)
if bad:
    print("\n".join(bad[:20]), file=sys.stderr)
    sys.exit(1)
PY
sha=$(sha256sum "$DATA" | cut -d' ' -f1)
[[ $(rcli "$REDIS_PORT" xlen "csm:replayed:$sha") == 2 ]] || fail "want 2 replay records"
[[ $(rcli "$REDIS_PORT" xrevrange "csm:replayed:$sha" + - count 1 | grep -A1 '^forced$' |
    tail -1) == 1 ]] || fail "the last replay record is not marked forced"
log "replay: second refused, --force doubled every counter exactly"

# The process's own lost EXEC reply: Redis applied a flush but `run` never
# heard back. The retry must recognise its own write (not "another owner"),
# and the figures must be exact: neither doubled nor lost.
start_broker 4
PROXY_PORT=$(free_port)
python3 "$CSM_TESTS/integration/lose_exec_reply.py" "$PROXY_PORT" "$REDIS_PORT" \
    >"$CSM_TMP/proxy.out" 2>"$CSM_TMP/proxy.log" &
CSM_PIDS+=($!)
wait_until 10 grep -q ready "$CSM_TMP/proxy.out" || fail "proxy did not start"
rcli "$REDIS_PORT" flushall >/dev/null
write_config "$CFG" "$PROXY_PORT" "  idle_advance: 1s"
start_run "$CFG" run
"$CSM_BIN" produce -c "$CFG" "$DATA" >"$CSM_TMP/produce.log" 2>&1 || fail "produce failed"
wait_until 30 grep -q lost "$CSM_TMP/proxy.out" || fail "the proxy never lost an EXEC reply"
wait_until 30 grep -q 'was applied although its reply was lost; counted as written' \
    "$CSM_TMP/run.log" || fail "the lost reply was not recognised"
! grep -q 'another owner' "$CSM_TMP/run.log" || fail "blamed another owner for its own write"
board_exact() {
    [[ "$(rcli "$REDIS_PORT" hget "$board" sessions_started) $(rcli "$REDIS_PORT" hget "$board" \
        human_requested) $(rcli "$REDIS_PORT" hget "$board" assigned) $(rcli "$REDIS_PORT" \
        hget "$board" queue_ms_sum)" == "4 3 3 110000" ]]
}
wait_until 30 board_exact || fail "figures after the lost reply: $(rcli "$REDIS_PORT" hgetall "$board" | tr '\n' ' ')"
stop_run 10
board_is "4 3 3 110000" "a lost EXEC reply"
log "lost EXEC reply: recognised as its own, figures exact"
log "PASS"
