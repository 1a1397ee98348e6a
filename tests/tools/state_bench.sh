#!/bin/bash
# Memory per tracked customer (docs/memory.md): generates the inputs with
# `csmetrics gen`, runs tests/tools/state_bench over the engine alone
# (probe) and every prefix of the default chain for seeds 1, 2 and 3, and
# prints the medians. Not a test: it measures.
#
#   tests/tools/state_bench.sh [--long] [BUILD_DIR=build] [WORK_DIR=/tmp/csm-state-bench]
#
# Default: a 1-day run (20 000 sessions) and a 3-day run (60 000 sessions),
# 10 shops, 5 000 customers per shop (≈ 5.5 minutes on 2 vCPUs). --long
# instead: a 30-day run (600 000 sessions, 50 000 customers per shop; ≈ 1 GB
# of events per seed, deleted after use; ≈ 13 minutes), the whole chain and
# the session builder alone.
# Every run's full output stays in WORK_DIR/<set>-s<seed>.<chain>.txt.
set -euo pipefail

long=0
if [ "${1:-}" = --long ]; then
    long=1
    shift
fi
build=$(cd "${1:-build}" && pwd)
work=${2:-/tmp/csm-state-bench}
G=$build/core/csmetrics
B=$build/tests/tools/state_bench
if [ ! -x "$G" ] || [ ! -x "$B" ]; then
    echo "state_bench.sh: build $build first (csmetrics, state_bench)" >&2
    exit 2
fi
mkdir -p "$work"
export CSM_PLUGIN_PATH=$build/plugins:$build/tests/plugins
common=(--shops 10 --agents-per-shop 8 --start 2026-11-20T08:00:00+08:00)
prefixes="probe session session,sla session,sla,unserved session,sla,unserved,satisfaction"
prefixes="$prefixes session,sla,unserved,satisfaction,fcr"
prefixes="$prefixes session,sla,unserved,satisfaction,fcr,orders"

# value of KEY= on the result line of FILE
field() { sed -n "s/^result .* $2=\([^ ]*\).*/\1/p" "$1"; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# run_set NAME EVERY "CHAINS" GEN-ARGS…
run_set() {
    local name=$1 every=$2 chains=$3
    shift 3
    for seed in 1 2 3; do
        local in=$work/$name-s$seed.jsonl
        "$G" gen --out "$in" "${common[@]}" "$@" --seed "$seed" 2>>"$work/gen.log"
        for c in $chains; do
            "$B" --chain "$c" --every "$every" "$in" >"$work/$name-s$seed.$c.txt"
        done
        rm -f "$in"
    done
    echo "== $name: gen ${common[*]} $* --seed 1|2|3; medians of the 3 seeds at the checkpoint"
    echo "   with the most tracked customers (heap and snapshot in bytes)"
    printf '%-46s %8s %8s %10s %10s %7s %7s %10s %10s\n' chain customers entries heap snapshot \
        heap/c snap/c peak_heap peak_snap
    for c in $chains; do
        local row=("$c")
        for k in customers entries heap snapshot heap_per_customer snapshot_per_customer \
            peak_heap peak_snapshot; do
            row+=("$(for seed in 1 2 3; do field "$work/$name-s$seed.$c.txt" "$k"; done | median)")
        done
        printf '%-46s %8.0f %8.0f %10.0f %10.0f %7.1f %7.1f %10.0f %10.0f\n' "${row[@]}"
    done
}

if [ $long = 1 ]; then
    run_set d30 20000 "session session,sla,unserved,satisfaction,fcr,orders" \
        --customers 50000 --sessions 600000 --days 30
else
    run_set d1 2000 "$prefixes" --customers 5000 --sessions 20000 --days 1
    run_set d3 2000 "$prefixes" --customers 5000 --sessions 60000 --days 3
fi
