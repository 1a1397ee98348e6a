# shellcheck shell=bash
# Helpers of tests/deploy/*.sh (sourced). deploy_scaffold NAME sets up what each
# check shares: $work (a scratch directory, removed on exit), ${pids[@]} (killed on
# exit) and fail MESSAGE (prints "NAME: MESSAGE", exits 1).

deploy_scaffold() {
    check_name=$1
    work=$(mktemp -d "/tmp/csm-$check_name.XXXXXX")
    pids=()
    trap deploy_cleanup EXIT
}

deploy_cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}

fail() {
    echo "$check_name: $*" >&2
    exit 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() { # FILE PATTERN: up to 10 s
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# start_idle_daemon COMMAND…: `COMMAND run` with Kafka and Redis on a port where
# nothing listens, telemetry on a free one. It then stays alive (/healthz 200) and
# not ready (/readyz 503, still connecting), which both are checked; sets
# idle_pid, idle_port (telemetry) and idle_closed (the port nothing listens on).
start_idle_daemon() {
    idle_port=$(free_port)
    idle_closed=$(free_port)
    cat >"$work/idle.yaml" <<YAML
kafka:
  brokers: "127.0.0.1:$idle_closed"
redis:
  host: 127.0.0.1
  port: $idle_closed
http:
  bind: 127.0.0.1
  port: $idle_port
YAML
    rm -f "$work/idle.log" # a previous daemon's, which wait_for could read first
    "$@" run -c "$work/idle.yaml" >"$work/idle.log" 2>&1 &
    idle_pid=$!
    pids+=("$idle_pid")
    wait_for "$work/idle.log" "telemetry on http://127.0.0.1:$idle_port/metrics" ||
        { cat "$work/idle.log" >&2; fail "run did not serve its telemetry"; }
    [[ $(curl -s "http://127.0.0.1:$idle_port/healthz") == ok ]] || fail "/healthz is not ok"
    local code
    code=$(curl -s -o "$work/readyz" -w '%{http_code}' "http://127.0.0.1:$idle_port/readyz")
    [[ $code == 503 && $(cat "$work/readyz") == "not ready: starting: connecting to Redis and Kafka" ]] ||
        fail "/readyz answered $code '$(cat "$work/readyz")'"
}

# SIGTERM stops the idle daemon with exit 0.
stop_idle_daemon() {
    local rc=0
    kill -TERM "$idle_pid"
    wait "$idle_pid" || rc=$?
    [[ $rc -eq 0 ]] || { cat "$work/idle.log" >&2; fail "run exited $rc on SIGTERM"; }
}
