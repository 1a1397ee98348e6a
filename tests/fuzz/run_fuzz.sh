#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, -DCSM_FUZZ=ON) in their own tree
# and runs each for a bounded time from its seed corpus. Exits non-zero
# when a harness finds a crash, a leak, undefined behaviour or a broken
# invariant; the input is kept as BUILD/fuzz-artifacts/<harness>-crash-*.
# Without clang it says so and exits 0.
#
#   tests/fuzz/run_fuzz.sh [--seconds N] [--build DIR] [HARNESS...]
#
# HARNESS: avro, json, config, ckpt_load (default: all, one after the
# other). New inputs go to BUILD/fuzz-work/<harness>/, never into the
# committed seed corpus; a run's log is BUILD/fuzz-work/<harness>.log.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=20
build=$root/build-fuzz
harnesses=()
while [[ $# -gt 0 ]]; do
    case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) harnesses+=("$1"); shift ;;
    esac
done
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=(avro json config ckpt_load)

if ! command -v clang >/dev/null; then
    echo "tests/fuzz: clang not found: fuzzing SKIPPED (install clang and libclang-rt-14-dev)" >&2
    exit 0
fi
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCSM_FUZZ=ON -DBUILD_TESTING=OFF -DCSM_WERROR=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${JOBS:-$(nproc)}" >/dev/null

# Leaks inside librdkafka/avro-c are theirs (tests/lsan.supp says why).
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export CSM_PLUGIN_PATH=$build/plugins

# One harness: libFuzzer's own exit status decides; the summary line is
# what docs/reliability.md reports (executions, exec/s, coverage, corpus).
run_one() {
    local h=$1 work=$build/fuzz-work/$1 log=$build/fuzz-work/$1.log
    mkdir -p "$work" "$build/fuzz-artifacts"
    local rc=0 start=$SECONDS
    "$build/tests/fuzz/fuzz_$h" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$build/fuzz-artifacts/$h-" "$work" "$root/tests/fuzz/corpus/$h" \
        >"$log" 2>&1 || rc=$?
    local execs speed cov
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 || true)
    echo "fuzz_$h: $((SECONDS - start))s, ${execs:-?} executions, ${speed:-?} exec/s," \
        "${cov:-no stats}" >&2
    if [[ $rc -ne 0 ]]; then
        echo "fuzz_$h: FAILED (exit $rc); log $log:" >&2
        if grep -qE 'ERROR|invariant broken|runtime error' "$log"; then
            grep -E -A30 'ERROR|invariant broken|runtime error' "$log" | head -60 >&2 || true
        else
            tail -40 "$log" >&2
        fi
        return 1
    fi
}

status=0
for h in "${harnesses[@]}"; do
    run_one "$h" || status=1
done
exit $status
