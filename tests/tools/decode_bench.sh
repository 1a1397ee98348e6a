#!/bin/bash
# Instructions per event of the decoders, counted by callgrind over the
# events of `csmetrics gen` (5 shops, seed 1, ~17 600 events): Avro
# messages as `run` decodes them (Confluent framing), JSON Lines and Avro
# container files as `replay` reads them. Not a test: it measures.
#
#   tests/tools/decode_bench.sh [BUILD_DIR=build] [WORK_DIR=/tmp/csm-decode-bench]
#
# Prints one line per decoder, e.g.
#   avro       8959 instructions per event (35272 events)
#   writer     9034 instructions per event (35272 events)
# Each decoder makes two passes over the events, so the second one runs
# with everything warm, as in a long-running process; the figure is the
# mean of both. Needs valgrind.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
work=${2:-/tmp/csm-decode-bench}
root=$(cd "$(dirname "$0")/../.." && pwd)
G=$build/core/csmetrics
B=$build/tests/tools/decode_bench
if [ ! -x "$G" ] || [ ! -x "$B" ]; then
    echo "decode_bench.sh: build $build first (csmetrics, decode_bench)" >&2
    exit 2
fi
command -v valgrind >/dev/null || { echo "decode_bench.sh: needs valgrind" >&2; exit 2; }
mkdir -p "$work"
export CSM_SCHEMA_DIR=$root/schemas
"$G" gen --out "$work/events.jsonl" --shops 5 --events 20000 --seed 1 >/dev/null 2>&1
# "writer": the chat messages written with a producer's v2 schema (a field
# added, one dropped, an enum symbol inserted) and read through resolution.
export CSM_BENCH_WRITER=$root/tests/integration/data/evolution/chat_v2.avsc
for mode in avro writer json container; do
    valgrind --tool=callgrind --toggle-collect=decode_all --callgrind-out-file="$work/$mode.cg" \
        "$B" "$work/events.jsonl" "$work" "$mode" 2 >"$work/$mode.txt" 2>"$work/$mode.log"
    ir=$(sed -n 's/^summary: //p' "$work/$mode.cg")
    events=$(sed -n 's/^[a-z]*: \([0-9]*\) events decoded.*/\1/p' "$work/$mode.txt")
    printf '%-10s %6d instructions per event (%d events)\n' "$mode" $((ir / events)) "$events"
done
