#!/usr/bin/env bash
# The dashboard end to end (docs/dashboard.md): Redis, the embedded broker and `csmetrics run`
# count the scripted scenario dashboard.jsonl; `csmetrics dashboard` serves it; dashboard.js
# opens the page in Debian's headless Chromium (playwright-core from npm), checks the figures
# derived by hand in the scenario's comments, then produces dashboard_live.jsonl and waits for
# its alert in the feed without a reload. Screenshots: $CSM_E2E_DIR/dashboard.png and
# dashboard-phone.png (docs/dashboard.png is one of them).
#
# Installs what it lacks: Debian's chromium, npm, curl and a CJK font, and playwright-core with `npm ci`
# into $CSM_E2E_DIR (the build tree; ctest sets it), never into the source tree.
source "$(dirname "$0")/../integration/lib.sh"
: "${CSM_E2E_DIR:=$CSM_BUILD/tests/e2e}"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
E2E_SRC=$CSM_TESTS/e2e

# The page names figures in Chinese too: a CJK font, or the screenshot shows boxes.
install_tools() {
    local pkgs=() sudo=()
    [[ -x $CHROMIUM ]] || pkgs+=(chromium)
    command -v npm >/dev/null || pkgs+=(npm)
    command -v curl >/dev/null || pkgs+=(curl)
    [[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] || pkgs+=(fonts-wqy-microhei)
    [[ ${#pkgs[@]} -eq 0 ]] && return 0
    log "installing ${pkgs[*]}"
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update >/dev/null
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
        "${pkgs[@]}" >/dev/null
}

# npm ci again only when the committed lock changed.
install_playwright() {
    mkdir -p "$CSM_E2E_DIR"
    if ! cmp -s "$E2E_SRC/package-lock.json" "$CSM_E2E_DIR/package-lock.json" ||
        [[ ! -d $CSM_E2E_DIR/node_modules/playwright-core ]]; then
        cp "$E2E_SRC/package.json" "$E2E_SRC/package-lock.json" "$CSM_E2E_DIR/"
        (cd "$CSM_E2E_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
            fail "npm ci of playwright-core failed"
    fi
    cp "$E2E_SRC/dashboard.js" "$CSM_E2E_DIR/"
}

install_tools || fail "cannot install chromium, npm, curl or fonts-wqy-microhei"
install_playwright
csm_setup
start_redis
start_broker 1
CFG=$CSM_TMP/csmetrics.yaml
# The scenario's day is fixed (2026-11-20): the horizon and the keys' lifetime reach far
# enough back that it is still counted, and kept, for years. Idle advance and lateness of
# 1 s let the last event (the clock mover) apply within seconds.
write_config "$CFG" "$REDIS_PORT" "  allowed_lateness: 1s
  idle_advance: 1s
  horizon: 3650d" "  properties:
    session.timeout.ms: \"3000\"
    heartbeat.interval.ms: \"300\"" "shops:
  s2:
    timezone: Europe/Berlin
    satisfaction_target: \"90%\""
sed -i 's/^  prefix: csm$/&\n  day_ttl_days: 3650/' "$CFG"
# Refused at start: no --port, a web directory without the page.
"$CSM_BIN" dashboard -c "$CFG" 2>"$CSM_TMP/err.txt" && fail "dashboard ran without --port"
"$CSM_BIN" dashboard -c "$CFG" --port 0 --web "$CSM_TMP" 2>"$CSM_TMP/err.txt" &&
    fail "dashboard ran on a directory without the page"
grep -q "^csmetrics dashboard: --web $CSM_TMP lacks index.html" "$CSM_TMP/err.txt" ||
    fail "no reason for the refused --web: $(cat "$CSM_TMP/err.txt")"
# Produced before the pipeline starts: a partition that has carried no event takes the wall
# clock as its event time once read to the end, which would make the scenario's day too old.
produce_file "$CFG" "$E2E_SRC/dashboard.jsonl" 39
start_run "$CFG" run
# The scenario's last event, 14:00 shop-local, applied: every earlier deadline has passed.
CLOCK_TS=1795154400000
applied() {
    local c
    c=$(rcli "$REDIS_PORT" hget csm:ckpt:csm-it:0 clock)
    [[ -n $c ]] && ((c >= CLOCK_TS))
}
wait_until 60 applied || fail "the scenario was not applied up to its last event"
! grep -q "deadletter: topic=" "$CSM_TMP/run.log" || fail "scenario events were dead-lettered"

# Redis clients before the dashboard: each feed client adds one, until it is gone.
clients() { rcli "$REDIS_PORT" info clients | sed -n 's/^connected_clients:\([0-9]*\).*/\1/p'; }
BASE_CLIENTS=$(clients)
"$CSM_BIN" dashboard -c "$CFG" --port 0 >"$CSM_TMP/dashboard.out" 2>"$CSM_TMP/dashboard.log" &
DASH_PID=$!
CSM_PIDS+=($DASH_PID)
wait_until 10 grep -q '^DASHBOARD ' "$CSM_TMP/dashboard.out" || fail "dashboard did not start"
DASH_URL=$(sed -n 's/^DASHBOARD //p' "$CSM_TMP/dashboard.out")
log "dashboard at $DASH_URL"

# The API without a browser: the shops with their zone and target, errors that say what is
# wrong, and the report exactly as `csmetrics report --json` gives it (the same layer).
get() { curl -s -o "$CSM_TMP/body" -w '%{http_code}' "${DASH_URL}$1"; }
[[ $(get api/shops) == 200 ]] || fail "/api/shops: $(cat "$CSM_TMP/body")"
# Targets as the plugins declare them (satisfaction 80 %, 2-minute first reply 85 %,
# unserved 5 %), s2's satisfaction from its own setting (90 %).
python3 -c 'import json, sys
def targets(sat):
    return {"satisfaction_rate": {"value": sat, "dir": "at_least"},
            "first_reply_2m_rate": {"value": 0.85, "dir": "at_least"},
            "unserved_rate": {"value": 0.05, "dir": "at_most"}}
sys.exit(json.load(open(sys.argv[1])) != {"shops": [
    {"id": "s1", "timezone": "Asia/Shanghai", "targets": targets(0.8)},
    {"id": "s2", "timezone": "Europe/Berlin", "targets": targets(0.9)}]})' "$CSM_TMP/body" ||
    fail "/api/shops: $(cat "$CSM_TMP/body")"
[[ $(get 'api/report?shop=nosuch&day=2026-11-20') == 404 ]] || fail "unknown shop: not 404"
grep -q '"known_shops":\["s1","s2"\]' "$CSM_TMP/body" || fail "unknown shop: $(cat "$CSM_TMP/body")"
[[ $(get 'api/report?shop=s1') == 400 ]] || fail "report without a day: not 400"
[[ $(get 'api/report?shop=s1&day=2026-11-20&to=2026-11-19') == 400 ]] || fail "backwards range: not 400"
[[ $(get 'assets/..%2Findex.html') == 404 ]] || fail "a path out of assets/ was served"
[[ $(get 'assets/chart.umd.min.js') == 200 ]] && grep -q 'Chart.js v4' "$CSM_TMP/body" ||
    fail "the chart library is not served"
get 'api/report?shop=s1&day=2026-11-20' >/dev/null
"$CSM_BIN" report -c "$CFG" --shop s1 --day 2026-11-20 --json >"$CSM_TMP/report.json"
python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
    "$CSM_TMP/body" "$CSM_TMP/report.json" || fail "/api/report differs from report --json"

# Redis unreachable: 503 with the reason.
"$CSM_BIN" dashboard -c "$CFG" --redis "127.0.0.1:$(free_port)" --port 0 \
    >"$CSM_TMP/dashboard-noredis.out" 2>&1 &
CSM_PIDS+=($!)
wait_until 10 grep -q '^DASHBOARD ' "$CSM_TMP/dashboard-noredis.out" || fail "dashboard did not start"
[[ $(curl -s -o "$CSM_TMP/body" -w '%{http_code}' \
    "$(sed -n 's/^DASHBOARD //p' "$CSM_TMP/dashboard-noredis.out")api/shops") == 503 ]] &&
    grep -q '"error":"redis 127.0.0.1:[0-9]*: connect' "$CSM_TMP/body" ||
    fail "no Redis: $(cat "$CSM_TMP/body")"

# A second client of the alert stream, outside the browser: the wire format as it is sent.
curl -sN "${DASH_URL}api/alerts/stream?shop=s1" >"$CSM_TMP/sse.txt" 2>&1 &
CURL_PID=$!
CSM_PIDS+=($CURL_PID)

DASH_URL=$DASH_URL CSM_CFG=$CFG REDIS_PORT=$REDIS_PORT LIVE_FILE=$E2E_SRC/dashboard_live.jsonl CHROMIUM=$CHROMIUM \
    SCREENSHOT=$CSM_E2E_DIR/dashboard.png SCREENSHOT_PHONE=$CSM_E2E_DIR/dashboard-phone.png \
    CSM_BIN=$CSM_BIN node "$CSM_E2E_DIR/dashboard.js" || fail "browser checks failed"

grep -qx 'event: ready' "$CSM_TMP/sse.txt" || fail "stream: no ready event"
grep -qx ': keepalive' "$CSM_TMP/sse.txt" || fail "stream: no keepalive comment"
grep -q '^data: {"type":"DISSATISFIED","shop_id":"s1","customer_id":"c8",' "$CSM_TMP/sse.txt" ||
    fail "stream: no data line for the live alert: $(cat "$CSM_TMP/sse.txt")"

# The browser has closed its feeds, and curl's ended with its Redis connection (killed by
# dashboard.js): none is left behind.
kill "$CURL_PID" 2>/dev/null || true
at_base() { [[ $(clients) -eq $BASE_CLIENTS ]]; }
wait_until 10 at_base || fail "Redis clients: $(clients), want $BASE_CLIENTS after the browser left"

# SIGTERM ends the server, and with it an alert stream still open, promptly and cleanly.
curl -sN "${DASH_URL}api/alerts/stream?shop=s1" >"$CSM_TMP/sse2.txt" 2>&1 &
CSM_PIDS+=($!)
wait_until 10 grep -qx 'event: ready' "$CSM_TMP/sse2.txt" || fail "second stream: no ready event"
kill -TERM "$DASH_PID"
stop_start=$(date +%s%N)
rc=0
timeout 10 tail --pid="$DASH_PID" -f /dev/null || fail "dashboard still running 10 s after SIGTERM"
wait "$DASH_PID" || rc=$?
[[ $rc -eq 0 ]] || fail "dashboard exited $rc after SIGTERM"
log "PASS (stopped $((($(date +%s%N) - stop_start) / 1000000)) ms after SIGTERM; screenshots in $CSM_E2E_DIR)"
