# Shared helpers of the integration tests: a throwaway redis-server and
# embedded broker on free loopback ports, a config file pointing at them,
# and cleanup of everything on exit. Source it, then call csm_setup.
#
# Environment (ctest sets it; by hand, defaults point at ./build):
#   CSM_BIN CSM_DLQ_DUMP CSM_PLUGIN_PATH CSM_SCHEMA_DIR CSM_TESTS
# CSM_KEEP=1 keeps the temporary directory (logs, dumps) for inspection.

set -euo pipefail

CSM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${CSM_BUILD:=$CSM_ROOT/build}"
: "${CSM_BIN:=$CSM_BUILD/core/csmetrics}"
: "${CSM_DLQ_DUMP:=$CSM_BUILD/tests/tools/dlq_dump}"
: "${CSM_PLUGIN_PATH:=$CSM_BUILD/plugins}"
: "${CSM_SCHEMA_DIR:=$CSM_ROOT/schemas}"
: "${CSM_TESTS:=$CSM_ROOT/tests}"
export CSM_PLUGIN_PATH CSM_SCHEMA_DIR

CSM_PIDS=()
CSM_TMP=""

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
fail() {
    log "FAIL: $*"
    exit 1
}

csm_cleanup() {
    local rc=$?
    for pid in "${CSM_PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [[ -n $CSM_TMP ]]; then
        if [[ $rc -ne 0 ]]; then
            # The logs say why; ctest shows them with --output-on-failure.
            for f in "$CSM_TMP"/*.log; do
                [[ -f $f ]] || continue
                echo "---- $(basename "$f") (last 40 lines)" >&2
                tail -n 40 "$f" >&2
            done
        fi
        if [[ ${CSM_KEEP:-0} == 1 ]]; then
            log "kept $CSM_TMP"
        else
            rm -rf "$CSM_TMP"
        fi
    fi
    exit $rc
}

csm_setup() {
    [[ -x $CSM_BIN ]] || fail "CSM_BIN=$CSM_BIN is not executable"
    command -v redis-server >/dev/null || fail "redis-server not installed"
    CSM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/csm-it.XXXXXX")
    trap csm_cleanup EXIT
    trap 'exit 130' INT TERM
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_until() {
    local limit=$1
    shift
    local deadline=$((SECONDS + limit))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# start_redis NAME: sets REDIS_PORT_<NAME> and REDIS_PORT.
start_redis() {
    local name=${1:-main} port
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize no --dir "$CSM_TMP" >"$CSM_TMP/redis-$name.log" 2>&1 &
    CSM_PIDS+=($!)
    wait_until 10 redis-cli -p "$port" ping >/dev/null 2>&1 || fail "redis-server did not start"
    printf -v "REDIS_PORT_$name" '%s' "$port"
    REDIS_PORT=$port
}

# start_broker [PARTITIONS [EXTRA_TOPICS [BROKER_ARGS...]]]: sets BOOTSTRAP.
start_broker() {
    local parts=${1:-4} extra=()
    [[ -n ${2:-} ]] && extra=(--topics "$2")
    extra+=("${@:3}")
    "$CSM_BIN" broker --partitions "$parts" "${extra[@]}" >"$CSM_TMP/broker.out" \
        2>"$CSM_TMP/broker.log" &
    CSM_PIDS+=($!)
    wait_until 10 grep -q '^BOOTSTRAP ' "$CSM_TMP/broker.out" || fail "broker printed no BOOTSTRAP"
    BOOTSTRAP=$(sed -n 's/^BOOTSTRAP //p' "$CSM_TMP/broker.out")
    log "broker at $BOOTSTRAP"
}

# write_config FILE REDIS_PORT [EXTRA_PIPELINE_YAML] [EXTRA_KAFKA_YAML]
# [EXTRA_TOP_LEVEL_YAML]: a config for both.
write_config() {
    local file=$1 port=$2 extra=${3:-} kafka=${4:-} top=${5:-}
    cat >"$file" <<EOF
kafka:
  brokers: "$BOOTSTRAP"
  group_id: csm-it
$kafka
redis:
  host: 127.0.0.1
  port: $port
  prefix: csm
pipeline:
$extra
schema_dir: "$CSM_SCHEMA_DIR"
plugin_path: "$CSM_PLUGIN_PATH"
log:
  level: info
$top
EOF
}

# start_run CONFIG LOGNAME: starts `csmetrics run`, sets RUN_PID.
start_run() {
    "$CSM_BIN" run -c "$1" >>"$CSM_TMP/$2.log" 2>&1 &
    RUN_PID=$!
    CSM_PIDS+=($RUN_PID)
}

# stop_run [SECONDS]: SIGTERM, expects exit 0 within SECONDS (default 10).
stop_run() {
    local limit=${1:-10} i rc=0
    kill -TERM "$RUN_PID"
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "$RUN_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$RUN_PID" 2>/dev/null; then
        # Where it is stuck, for the log shown on failure.
        command -v gdb >/dev/null &&
            gdb -p "$RUN_PID" -batch -ex "thread apply all bt" >"$CSM_TMP/stuck-bt.log" 2>&1
        fail "csmetrics run still alive ${limit}s after SIGTERM"
    fi
    wait "$RUN_PID" || rc=$?
    [[ $rc -eq 0 ]] || fail "csmetrics run exited $rc after SIGTERM"
}

# rcli PORT ARGS...: redis-cli on a test Redis.
rcli() {
    local port=$1
    shift
    redis-cli -p "$port" "$@"
}

# ckpt_sum PORT FIELD: FIELD (chat_offset/order_offset) summed over the
# checkpoints; the partitions start at offset 0, so this is the number of
# messages consumed per topic.
ckpt_sum() {
    local port=$1 field=$2 sum=0 k v
    for k in $(rcli "$port" --scan --pattern 'csm:ckpt:*'); do
        v=$(rcli "$port" hget "$k" "$field")
        ((v > 0)) && sum=$((sum + v))
    done
    echo $sum
}

# topic_total TOPIC: messages produced to TOPIC (sum of high watermarks).
topic_total() {
    "$CSM_DLQ_DUMP" --watermarks "$BOOTSTRAP" "$1"
}

# consumed_all PORT CHAT_TOTAL ORDER_TOTAL
consumed_all() {
    [[ $(ckpt_sum "$1" chat_offset) -eq $2 && $(ckpt_sum "$1" order_offset) -eq $3 ]]
}

# redis_dump PORT: every key but the checkpoints, deterministically.
redis_dump() {
    python3 "$CSM_TESTS/integration/redis_dump.py" "$1"
}

# board_is CONFIG SHOP DAY FIELD=VALUE...: the shop-day's board (report
# --json) holds these values.
board_is() {
    local cfg=$1 shop=$2 day=$3
    shift 3
    "$CSM_BIN" report -c "$cfg" --shop "$shop" --day "$day" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d[0] if isinstance(d, list) else d
b = d["board"]
want = dict(a.split("=", 1) for a in sys.argv[1:])
sys.exit(0 if all(str(b.get(k)) == v for k, v in want.items()) else 1)' "$@"
}

# produce_file CONFIG FILE CHAT_TOTAL: `csmetrics produce` of FILE, after
# which the chat topic must hold CHAT_TOTAL messages.
produce_file() {
    "$CSM_BIN" produce -c "$1" "$2" >"$CSM_TMP/produce.log" 2>&1 ||
        fail "produce failed: $(cat "$CSM_TMP/produce.log")"
    [[ $(topic_total cs.chat.events) -eq $3 ]] || fail "want $3 messages in cs.chat.events"
}

# report_json CONFIG SHOP DAY: the shop-day's report (report --json), one
# JSON object, in $CSM_TMP/SHOP.json; fails when report fails.
report_json() {
    "$CSM_BIN" report -c "$1" --shop "$2" --day "$3" --json 2>"$CSM_TMP/report.log" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); json.dump(d[0] if isinstance(d, list) else d, sys.stdout)' \
            >"$CSM_TMP/$2.json" && [[ ${PIPESTATUS[0]} == 0 ]]
}

# wait_for CHECK WHAT: CHECK passes within 60 s, or the test fails naming WHAT
# (with what CHECK said on its last try).
wait_for() {
    if ! wait_until 60 "$1" 2>"$CSM_TMP/check.log"; then
        cat "$CSM_TMP/check.log" >&2
        fail "never saw $2"
    fi
}

# start_registry DIR [OPTIONS...]: the test schema registry
# (tests/tools/schema_registry.py) serving DIR/<subject>/<version>-<id>.avsc;
# sets REGISTRY_PID, REGISTRY_PORT and REGISTRY_URL. Once REGISTRY_PORT is
# set, a new start (after stop_registry) listens on the same port.
start_registry() {
    local dir=$1
    shift
    rm -f "$CSM_TMP/registry.port"
    python3 "$CSM_TESTS/tools/schema_registry.py" "$dir" --port "${REGISTRY_PORT:-0}" \
        --port-file "$CSM_TMP/registry.port" "$@" 2>>"$CSM_TMP/registry.log" &
    REGISTRY_PID=$!
    CSM_PIDS+=("$REGISTRY_PID")
    wait_until 10 test -s "$CSM_TMP/registry.port" || fail "the schema registry did not start"
    REGISTRY_PORT=$(cat "$CSM_TMP/registry.port")
    REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT
}

# stop_registry: SIGTERM to the registry of start_registry.
stop_registry() {
    kill "$REGISTRY_PID"
    wait "$REGISTRY_PID" 2>/dev/null || true
}
