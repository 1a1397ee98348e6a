#!/usr/bin/env bash
# The example plugin built ONLY against the installed SDK (issue 12, "The
# example is real"), as docs/writing-a-plugin.md tells a developer to:
#  1. `cmake --install` the build into a fresh temporary prefix;
#  2. copy examples/logistics-stall out of the tree, build it with
#     find_package(csmetrics) (CMAKE_PREFIX_PATH=prefix) and run its tests
#     with the installed test kit (ctest);
#  3. build it again with pkg-config (its Makefile) and run the tests;
#  4. load it into the installed `csmetrics run` on the embedded broker, with
#     no CSM_* variable: the installed binary finds the built-in plugins and
#     the schemas relative to itself, the example through plugin_path;
#     produce the example's scenario, shifted to recent days (timestamps must
#     lie within the horizon), and check its figures and alerts through
#     `csmetrics report --json`.
# Expected figures (scenario.jsonl derives them; day 0 = its 2026-11-20):
#   s1 day 0: shipments board 3, all day 4; logistics_stalled board 1, all
#     day 2; logistics_stalled_rate 1/3 and 2/4; alerts c2, c3 (48 h);
#   s1 day 1: shipments 1, logistics_stalled 1, rate 1; alert c5.
# Pending stall timers fire when the quiet partitions' event time advances
# with the wall clock (pipeline.idle_advance 1s).
#
# Environment: CSM_BUILD (the configured build tree to install) and
# CSM_ROOT (the source tree), set by ctest; lib.sh's defaults otherwise.
source "$(dirname "$0")/../integration/lib.sh"
csm_setup
command -v pkg-config >/dev/null || fail "pkg-config not installed"
command -v make >/dev/null || fail "make not installed"

PREFIX=$CSM_TMP/prefix
SRC=$CSM_TMP/logistics-stall
# Nothing may point into the source or build tree.
unset CSM_PLUGIN_PATH CSM_SCHEMA_DIR

# 1. Install. A destination that is absolute in the build's install scripts
# would be written outside the prefix (and the tree would not be relocatable).
outside=$(grep -rhoE 'DESTINATION "[^$][^"]*"' --include=cmake_install.cmake "$CSM_BUILD" |
    sort -u || true)
[[ -z $outside ]] || fail "the build installs outside its prefix: $outside"
cmake --install "$CSM_BUILD" --prefix "$PREFIX" >"$CSM_TMP/install.log" 2>&1 ||
    fail "cmake --install failed: $(tail -5 "$CSM_TMP/install.log")"
for f in bin/csmetrics include/csmetrics/plugin.h include/csmetrics/testkit.h \
    lib/libcsmetrics-testkit.a lib/csmetrics/plugins/session.so; do
    [[ -e $PREFIX/$f ]] || fail "not installed: $f"
done
ls "$PREFIX"/share/csmetrics/schemas/*.avsc >/dev/null 2>&1 || fail "no schemas installed"
cp -r "$CSM_ROOT/examples/logistics-stall" "$SRC"
log "installed into $PREFIX"

# 2. find_package(csmetrics CONFIG).
# CSM_SDK_CFLAGS: what code linking this build's test kit must be compiled with
# (the sanitizers, when the tree under test is sanitized).
sdk_cflags=${CSM_SDK_CFLAGS:-}
cmake -S "$SRC" -B "$CSM_TMP/build-cmake" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$sdk_cflags" >"$CSM_TMP/cmake.log" 2>&1 ||
    fail "configuring the example failed: $(tail -20 "$CSM_TMP/cmake.log")"
cmake --build "$CSM_TMP/build-cmake" >>"$CSM_TMP/cmake.log" 2>&1 ||
    fail "building the example with find_package failed: $(tail -20 "$CSM_TMP/cmake.log")"
ctest --test-dir "$CSM_TMP/build-cmake" --output-on-failure >"$CSM_TMP/ctest.log" 2>&1 ||
    fail "the example's tests failed (find_package build): $(tail -20 "$CSM_TMP/ctest.log")"
grep -q "100% tests passed, 0 tests failed out of 1" "$CSM_TMP/ctest.log" ||
    fail "the example's test did not run: $(tail -5 "$CSM_TMP/ctest.log")"
log "built and tested with find_package"

# 3. pkg-config.
PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig make -C "$SRC" check CFLAGS="-O2 -g -Wall -Wextra $sdk_cflags" \
    >"$CSM_TMP/make.log" 2>&1 ||
    fail "the pkg-config build or its tests failed: $(tail -20 "$CSM_TMP/make.log")"
grep -q "test_logistics_stall: all checks passed" "$CSM_TMP/make.log" ||
    fail "the pkg-config build's test did not pass"
log "built and tested with pkg-config"

# 4. The installed daemon.
CSM_BIN=$PREFIX/bin/csmetrics
start_redis
start_broker 2
DAY0=$(python3 -c 'import datetime as d
t = d.datetime.now(d.timezone(d.timedelta(hours=8))).date() - d.timedelta(days=6)
print(t.isoformat())')
DAY1=$(python3 -c 'import datetime as d, sys
print((d.date.fromisoformat(sys.argv[1]) + d.timedelta(days=1)).isoformat())' "$DAY0")
# The scenario moved by whole days (shop-local times unchanged) to start on DAY0.
python3 - "$SRC/tests/scenario.jsonl" "$DAY0" >"$CSM_TMP/scenario.jsonl" <<'PY'
import datetime as d, json, sys
shift = (d.date.fromisoformat(sys.argv[2]) - d.date(2026, 11, 20)).days * 86400000
for line in open(sys.argv[1]):
    if line.strip() and not line.lstrip().startswith("#"):
        e = json.loads(line)
        e["ts"] += shift
        print(json.dumps(e))
PY
CFG=$CSM_TMP/csmetrics.yaml
cat >"$CFG" <<EOF
kafka:
  brokers: "$BOOTSTRAP"
  group_id: csm-sdk
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  prefix: csm
pipeline:
  idle_advance: 1s
plugin_path: "$CSM_TMP/build-cmake"
plugins: [session, sla, unserved, satisfaction, fcr, orders, logistics_stall]
log:
  level: info
EOF
"$CSM_BIN" config -c "$CFG" >"$CSM_TMP/config.log" 2>&1 ||
    fail "csmetrics config -c refused the chain: $(cat "$CSM_TMP/config.log")"
"$CSM_BIN" produce -c "$CFG" "$CSM_TMP/scenario.jsonl" >"$CSM_TMP/produce.log" 2>&1 ||
    fail "produce failed: $(cat "$CSM_TMP/produce.log")"
grep -q "produced 19 events (chat 0, order 19)" "$CSM_TMP/produce.log" ||
    fail "produce: $(cat "$CSM_TMP/produce.log")"
start_run "$CFG" run

# report_ok: the figures and alerts derived above, through `report --json`.
report_ok() {
    "$CSM_BIN" report -c "$CFG" --shop s1 --day "$DAY0" --to "$DAY1" --json \
        >"$CSM_TMP/range.json" 2>>"$CSM_TMP/report.log" &&
        "$CSM_BIN" report -c "$CFG" --shop s1 --day "$DAY0" --json \
            >"$CSM_TMP/day0.json" 2>>"$CSM_TMP/report.log" &&
        "$CSM_BIN" report -c "$CFG" --shop s1 --day "$DAY1" --json \
            >"$CSM_TMP/day1.json" 2>>"$CSM_TMP/report.log" &&
        python3 - "$CSM_TMP" "$DAY0" "$DAY1" <<'PY'
import json, sys
tmp, day0, day1 = sys.argv[1:]
d0 = json.load(open(tmp + "/day0.json"))
d1 = json.load(open(tmp + "/day1.json"))
r = json.load(open(tmp + "/range.json"))
def fig(block, shipments, stalled):
    rate = block.get("logistics_stalled_rate")
    return (block.get("shipments") == shipments and block.get("logistics_stalled") == stalled
            and rate is not None and abs(rate - stalled / shipments) < 1e-12)
ok = (fig(d0["board"], 3, 1) and fig(d0["allday"], 4, 2) and fig(d1["board"], 1, 1)
      and fig(d1["allday"], 1, 1))
alerts = sorted((a["customer_id"], a["day"], a["figure"]) for a in r["alerts"]
                if a["type"] == "LOGISTICS_STALLED")
ok = ok and alerts == [("c2", day0, 172800000), ("c3", day0, 172800000),
                       ("c5", day1, 172800000)]
sys.exit(0 if ok else 1)
PY
}
wait_until 90 report_ok || fail "figures or alerts differ: $(cat "$CSM_TMP/day0.json" \
    "$CSM_TMP/day1.json")"
"$CSM_BIN" report -c "$CFG" --shop s1 --day "$DAY0" >"$CSM_TMP/report.txt" \
    2>>"$CSM_TMP/report.log" || fail "text report failed"
grep -q "^logistics$" "$CSM_TMP/report.txt" || fail "no logistics section in the text report"
stop_run 10
log "PASS"
