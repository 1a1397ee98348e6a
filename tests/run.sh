#!/usr/bin/env bash
# The test command: installs what is missing (Debian), builds a normal
# tree (build/, RelWithDebInfo) and an AddressSanitizer/UBSan tree
# (build-asan/), and runs ctest in both. Exits non-zero on any failure.
#
# Both trees run every test, integration tests included: under ASan the
# daemon and broker are slower (test_kill9 about 50 s instead of 35 s)
# but the crash/restart paths are exactly where memory errors would hide.
# CSM_SKIP_ASAN=1 skips the ASan tree; JOBS sets build parallelism;
# CSM_BUILD_ROOT puts the two trees elsewhere than the checkout.
#
# --long (or CSM_LONG=1) runs the fault suite (ctest label `fault`,
# docs/reliability.md) deep: more kills and faults over bigger streams;
# any other argument goes to ctest (e.g. `-L fault`).
#
# Then a bounded fuzzing run (tests/fuzz/run_fuzz.sh, clang, build-fuzz/):
# each libFuzzer harness for CSM_FUZZ_SECONDS (default 20); any crash,
# leak or undefined behaviour fails the suite. CSM_SKIP_FUZZ=1 skips it.
set -euo pipefail
ctest_extra=()
for arg in "$@"; do
    if [[ $arg == --long ]]; then
        export CSM_LONG=1
    else
        ctest_extra+=("$arg")
    fi
done
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-$(nproc)}
build_root=${CSM_BUILD_ROOT:-$root}

packages=(cmake gcc make pkg-config librdkafka-dev libavro-dev libhiredis-dev libyaml-dev
    libjansson-dev libssl-dev libcmocka-dev libmicrohttpd-dev libcurl4-openssl-dev uthash-dev redis-server tzdata python3
    curl
    clang libclang-rt-14-dev prometheus)
# deploy/'s checks (tests/deploy/): systemd-analyze, YAML, readelf and ldd.
packages+=(systemd python3-yaml binutils libc-bin)
# The dashboard (docs/dashboard.md): npm installs its chart library at build time and the
# browser test's playwright-core; Debian's Chromium runs that test, with a CJK font for the
# page's Chinese names. npm only when there is none: a Node.js from elsewhere brings its own.
packages+=(chromium fonts-wqy-microhei)
command -v npm >/dev/null || packages+=(npm)

install_missing() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "installing: ${missing[*]}" >&2
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
        "${missing[@]}"
}
install_missing "${packages[@]}"

status=0
build_and_test() {
    local dir=$1
    shift
    local cmake_args=() ctest_args=()
    while [[ $# -gt 0 && $1 != -- ]]; do
        cmake_args+=("$1")
        shift
    done
    [[ $# -gt 0 ]] && shift
    ctest_args=("$@")
    echo "==== $dir" >&2
    cmake -S "$root" -B "$build_root/$dir" "${cmake_args[@]}" &&
        cmake --build "$build_root/$dir" -j"$jobs" &&
        (cd "$build_root/$dir" && ctest --output-on-failure "${ctest_args[@]}" "${ctest_extra[@]}") || status=1
}

# -Werror here only: users' builds never fail on a warning (CSM_WERROR).
build_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSM_WERROR=ON
if [[ ${CSM_SKIP_ASAN:-0} != 1 ]]; then
    # librdkafka's and avro-c's own allocations at exit are not ours to fix.
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    build_and_test build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSM_SANITIZE=ON -DCSM_WERROR=ON
fi
if [[ ${CSM_SKIP_FUZZ:-0} != 1 ]]; then
    echo "==== build-fuzz" >&2
    "$root/tests/fuzz/run_fuzz.sh" --seconds "${CSM_FUZZ_SECONDS:-20}" \
        --build "$build_root/build-fuzz" || status=1
fi
[[ $status -eq 0 ]] && echo "tests/run.sh: all passed" >&2 || echo "tests/run.sh: FAILED" >&2
exit $status
