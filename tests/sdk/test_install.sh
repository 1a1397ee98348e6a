#!/usr/bin/env bash
# The installed SDK and daemon, relocated: `cmake --install` into a
# temporary prefix, the prefix moved elsewhere, then with no CSM_*
# variable at all (env -i):
#   - `csmetrics config -c` finds the moved prefix's plugins and schemas,
#     and a missing plugin is reported as searched there;
#   - `csmetrics replay` of tests/golden/orders_refunds.jsonl into a real
#     redis-server writes the board that golden scenario derives;
#   - tests/sdk/min_plugin (a plugin and a test kit test) builds against the
#     moved prefix with pkg-config and with find_package(csmetrics), and
#     its test passes.
# Environment (ctest sets it): CSM_BUILD_DIR, the build tree to install;
# CSM_SDK_CFLAGS, what its compiler flags impose on code linking its test
# kit (the sanitizers in an ASan tree).
source "$(dirname "$0")/../integration/lib.sh"
build=${CSM_BUILD_DIR:-$CSM_ROOT/build}
CSM_BIN=$build/core/csmetrics # csm_setup checks it
csm_setup
start_redis
here=$CSM_ROOT/tests/sdk

cmake --install "$build" --prefix "$CSM_TMP/stage" >"$CSM_TMP/install.log" ||
    fail "cmake --install failed"
mkdir "$CSM_TMP/moved"
mv "$CSM_TMP/stage" "$CSM_TMP/moved/prefix"
P=$CSM_TMP/moved/prefix
sdk_cflags=${CSM_SDK_CFLAGS:-}
# Nothing of this tree's environment: what works, works from the prefix.
# The sanitizers' options (tests/run.sh) are not ours to drop.
clean() {
    env -i PATH="$PATH" HOME="$CSM_TMP" ${LSAN_OPTIONS:+LSAN_OPTIONS="$LSAN_OPTIONS"} \
        ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} \
        "$@"
}

for f in bin/csmetrics include/csmetrics/plugin.h include/csmetrics/testkit.h \
    lib/libcsmetrics-testkit.a lib/csmetrics/plugins/session.so lib/csmetrics/plugins/orders.so \
    share/csmetrics/schemas/chat_event.avsc share/csmetrics/web/index.html \
    lib/pkgconfig/csmetrics-plugin.pc lib/pkgconfig/csmetrics-testkit.pc \
    lib/cmake/csmetrics/csmetricsConfig.cmake lib/cmake/csmetrics/csmetricsConfigVersion.cmake; do
    [[ -f $P/$f ]] || fail "not installed: $f"
done
# The move must leave nothing pointing at the old prefix.
! grep -rq "$CSM_TMP/stage" "$P/lib/pkgconfig" "$P/lib/cmake" || fail "old prefix in SDK files"

# --- the daemon's defaults come from its own prefix
cat >"$CSM_TMP/min.yaml" <<YAML
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
plugins:
  - session
  - orders
YAML
(cd "$CSM_TMP" && clean "$P/bin/csmetrics" config -c min.yaml) >"$CSM_TMP/config.log" 2>&1 ||
    fail "config -c of the moved install: $(cat "$CSM_TMP/config.log")"
grep -qx 'min.yaml: valid' "$CSM_TMP/config.log" || fail "config: $(cat "$CSM_TMP/config.log")"
printf 'plugins:\n  - nosuch\n' >"$CSM_TMP/bad.yaml"
if clean "$P/bin/csmetrics" config -c "$CSM_TMP/bad.yaml" >"$CSM_TMP/bad.log" 2>&1; then
    fail "a missing plugin passed config -c"
fi
grep -qF "plugin 'nosuch': not found (searched $P/lib/csmetrics/plugins)" \
    "$CSM_TMP/bad.log" || fail "missing plugin: $(cat "$CSM_TMP/bad.log")"
log "config -c: plugins and schemas found in the moved prefix"

# orders_refunds (tests/golden, its comments derive it): on 2026-11-20 two
# refunds of s1 finish in the window, 1 h each: refunds_finished 2,
# refund_ms_sum 7200000.
clean "$P/bin/csmetrics" replay -c "$CSM_TMP/min.yaml" --quiet \
    "$CSM_TESTS/golden/orders_refunds.jsonl" >"$CSM_TMP/replay.log" 2>&1 ||
    fail "replay: $(cat "$CSM_TMP/replay.log")"
board='csm:{s1}:board:2026-11-20'
[[ $(redis-cli -p "$REDIS_PORT" HGET "$board" refunds_finished) == 2 ]] ||
    fail "refunds_finished: $(redis-cli -p "$REDIS_PORT" HGETALL "$board" | tr '\n' ' ')"
[[ $(redis-cli -p "$REDIS_PORT" HGET "$board" refund_ms_sum) == 7200000 ]] ||
    fail "refund_ms_sum: $(redis-cli -p "$REDIS_PORT" HGET "$board" refund_ms_sum)"
log "replay: board of s1 on 2026-11-20 as derived"

# The dashboard serves its page from the prefix's share/csmetrics/web.
clean "$P/bin/csmetrics" dashboard -c "$CSM_TMP/min.yaml" --port 0 >"$CSM_TMP/dash.out" \
    2>"$CSM_TMP/dash.log" &
CSM_PIDS+=($!)
wait_until 10 grep -q '^DASHBOARD ' "$CSM_TMP/dash.out" || fail "dashboard did not start"
url=$(sed -n 's/^DASHBOARD //p' "$CSM_TMP/dash.out")
curl -sf "$url" | cmp -s - "$P/share/csmetrics/web/index.html" ||
    fail "dashboard: $url is not the installed index.html"
log "dashboard: page served from the moved prefix"

# --- an outside plugin project, twice
export PKG_CONFIG_PATH=$P/lib/pkgconfig
pc=$CSM_TMP/pc
mkdir "$pc"
for m in csmetrics-plugin csmetrics-testkit; do
    [[ -f $(pkg-config --variable=plugindir $m)/session.so ]] || fail "$m: plugindir"
    [[ -f $(pkg-config --variable=schemadir $m)/chat_event.avsc ]] || fail "$m: schemadir"
done
# shellcheck disable=SC2046,SC2086 # pkg-config's and the sanitizers' flags are words
cc -Wall -Wextra -Werror $sdk_cflags -shared -fPIC $(pkg-config --cflags csmetrics-plugin) \
    "$here/min_plugin/min.c" -o "$pc/min.so" || fail "pkg-config: plugin build"
# shellcheck disable=SC2046,SC2086
cc -Wall -Wextra -Werror $sdk_cflags $(pkg-config --cflags csmetrics-testkit) "$here/min_plugin/test_min.c" \
    $(pkg-config --libs csmetrics-testkit) -o "$pc/test_min" || fail "pkg-config: test build"
clean "$pc/test_min" "$pc" || fail "pkg-config build: test_min failed"

cm=$CSM_TMP/cm
clean cmake -S "$here/min_plugin" -B "$cm" -DCMAKE_PREFIX_PATH="$P" \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror $sdk_cflags" >"$CSM_TMP/cmake.log" 2>&1 &&
    clean cmake --build "$cm" >>"$CSM_TMP/cmake.log" 2>&1 ||
    fail "find_package build: $(tail -20 "$CSM_TMP/cmake.log")"
clean "$cm/test_min" "$cm" || fail "find_package build: test_min failed"
log "PASS"
