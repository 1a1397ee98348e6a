#!/usr/bin/env bash
# Quick start on a Debian machine: installs what is missing, builds, starts
# a throwaway Redis and the embedded broker, generates a few thousand
# events (a day ten days ago: gen's default keeps every event in the past,
# since run dead-letters events ahead of the wall clock), runs the pipeline
# until they are consumed, prints one shop's board (text and JSON), and
# stops everything.
#   SESSIONS=600 deploy/quickstart.sh   (about 7 events per session)
#   CSM_BUILD_DIR=DIR builds there instead of build/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sessions=${SESSIONS:-600}
build=${CSM_BUILD_DIR:-$root/build}

packages=(cmake gcc make pkg-config librdkafka-dev libavro-dev libhiredis-dev libyaml-dev
    libjansson-dev libssl-dev libmicrohttpd-dev libcurl4-openssl-dev uthash-dev redis-server tzdata python3 curl)
# The build installs the dashboard's chart library with npm (docs/dashboard.md); a Node.js
# from elsewhere brings its own npm.
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
bin=$build/core/csmetrics

work=$(mktemp -d /tmp/csm-quickstart.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
http_port=$(free_port)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done

"$bin" broker --partitions 4 >"$work/broker.out" 2>"$work/broker.log" &
pids+=($!)
until grep -q '^BOOTSTRAP ' "$work/broker.out" 2>/dev/null; do sleep 0.1; done
brokers=$(sed -n 's/^BOOTSTRAP //p' "$work/broker.out")
echo "redis 127.0.0.1:$port, broker $brokers"

cat >"$work/csmetrics.yaml" <<EOF
kafka:
  brokers: "$brokers"
  group_id: quickstart
redis:
  host: 127.0.0.1
  port: $port
schema_dir: "$root/schemas"
plugin_path: "$build/plugins"
http:
  port: $http_port
EOF
cfg=$work/csmetrics.yaml

"$bin" gen -c "$cfg" --kafka --sessions "$sessions" --seed 1 >"$work/gen.log" 2>&1 ||
    { cat "$work/gen.log"; exit 1; }
cat "$work/gen.log"

"$bin" run -c "$cfg" >"$work/run.log" 2>&1 &
run_pid=$!
pids+=($run_pid)

# Consumed once the checkpoints' offsets reach the topics' ends.
dump=$build/tests/tools/dlq_dump
end_c=$("$dump" --watermarks "$brokers" cs.chat.events)
end_o=$("$dump" --watermarks "$brokers" cs.order.events)
consumed() {
    local c=0 o=0 k v
    for k in $(redis-cli -p "$port" --scan --pattern 'csm:ckpt:*'); do
        v=$(redis-cli -p "$port" hget "$k" chat_offset)
        ((v > 0)) && c=$((c + v))
        v=$(redis-cli -p "$port" hget "$k" order_offset)
        ((v > 0)) && o=$((o + v))
    done
    echo "consumed $c/$end_c chat, $o/$end_o order events" >&2
    [[ $c -eq $end_c && $o -eq $end_o ]]
}
for ((i = 0; i < 120; i++)); do
    consumed && break
    sleep 1
done
echo
echo "==== the daemon's telemetry: curl localhost:$http_port/readyz and /metrics (some lines)"
curl -s "localhost:$http_port/readyz"
echo
curl -s "localhost:$http_port/metrics" |
    grep -E '^csmetrics_(messages_(in|applied|duplicate)_total|dead_letters_total|flushes_total|open_sessions|alerts_raised_total|ready)[ {]' || true
kill -TERM "$run_pid"
wait "$run_pid" || true
tail -n 3 "$work/run.log"

shop=$(redis-cli -p "$port" smembers csm:shops | sort | head -1)
# The shop's busiest day (later days hold only figures anchored after the
# traffic, such as refunds finishing or the 7-day satisfaction decisions).
day=$(for k in $(redis-cli -p "$port" --scan --pattern "csm:{$shop}:allday:*"); do
    n=$(redis-cli -p "$port" hget "$k" sessions_started)
    echo "${n:-0} ${k##*:}"
done | sort -n | tail -1 | cut -d' ' -f2)
echo
echo "==== csmetrics report --shop $shop --day $day"
"$bin" report -c "$cfg" --shop "$shop" --day "$day"
echo
echo "==== csmetrics report --shop $shop --day $day --json"
"$bin" report -c "$cfg" --shop "$shop" --day "$day" --json
