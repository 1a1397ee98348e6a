/* The logistics_stall plugin through the test kit: the real engine
 * in-process, no broker, no Redis. Every expected value is derived by hand
 * in the comments (scenario.jsonl explains its own). Times are shop-local
 * (Asia/Shanghai, the default zone; DOUYIN's assessment window
 * 08:00-23:00); T0 is 2026-11-20T00:00:00+08:00.
 *
 * Usage: test_logistics_stall SCENARIO_DIR PLUGIN_DIR, where PLUGIN_DIR
 * holds logistics_stall.so (the configuration's plugin_path). */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csmetrics/testkit.h"

#define T0 1795104000000LL /* 2026-11-20T00:00:00+08:00 */
#define MIN(x) ((int64_t)(x)*60000LL)
#define HRS(x) ((int64_t)(x)*3600000LL)
#define DAYS(x) ((int64_t)(x)*86400000LL)
#define AT(d, h, m) (T0 + DAYS(d) + HRS(h) + MIN(m)) /* day d after 11-20, hh:mm */

static const char *scenario_dir, *plugin_dir;
static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: FAILED %s: ", __FILE__, __LINE__, #cond);                      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void check_i64(const char *what, int64_t got, int64_t want, int line)
{
    if (got != want) {
        fprintf(stderr, "%s:%d: FAILED %s = %lld, want %lld\n", __FILE__, line, what,
                (long long)got, (long long)want);
        failures++;
    }
}
#define EQ(got, want) check_i64(#got, (got), (want), __LINE__)

/* A chain of logistics_stall alone (it needs no other plugin), with
 * @p settings under its entry. */
static csm_testkit *start(const char *settings)
{
    char yaml[2048], err[512];
    snprintf(yaml, sizeof yaml, "plugin_path: \"%s\"\nplugins:\n  - name: logistics_stall\n%s",
             plugin_dir, settings);
    csm_testkit *tk = csm_testkit_new(yaml, err, sizeof err);
    if (!tk) {
        fprintf(stderr, "csm_testkit_new: %s\n", err);
        exit(1);
    }
    return tk;
}

static void restart(csm_testkit *tk)
{
    char err[512];
    if (csm_testkit_restart(tk, err, sizeof err)) {
        fprintf(stderr, "csm_testkit_restart: %s\n", err);
        exit(1);
    }
}

static void feed(csm_testkit *tk, const char *line)
{
    int verdict = csm_testkit_feed(tk, line);
    CHECK(verdict == CSM_TK_ACCEPTED, "%s refused: %s", line, csm_testkit_last_reason(tk));
}

/* Feeds scenario.jsonl, restarting the engine (checkpoint, kill -9, load)
 * before every event when @p restarts, then ends the input. */
static csm_testkit *run_scenario(int restarts)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/scenario.jsonl", scenario_dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    csm_testkit *tk = start("");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[len - 1] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        if (restarts)
            restart(tk);
        feed(tk, line);
    }
    free(line);
    fclose(f);
    csm_testkit_end(tk);
    return tk;
}

static int64_t board(csm_testkit *tk, const char *shop, const char *day, const char *field)
{
    return csm_testkit_counter(tk, "board", shop, day, field);
}

static int64_t allday(csm_testkit *tk, const char *shop, const char *day, const char *field)
{
    return csm_testkit_counter(tk, "allday", shop, day, field);
}

static int64_t alert_i64(csm_testkit *tk, long i, const char *field)
{
    const char *v = csm_testkit_alert_field(tk, i, field);
    return v ? strtoll(v, NULL, 10) : INT64_MIN;
}

static int alert_is(csm_testkit *tk, long i, const char *field, const char *want)
{
    const char *v = csm_testkit_alert_field(tk, i, field);
    return v && !strcmp(v, want);
}

/* Alert i is LOGISTICS_STALLED of shop s1, customer @p customer, raised at
 * @p raised about the shipment of @p anchor, 48 h of silence. */
static void check_alert(csm_testkit *tk, long i, const char *customer, int64_t raised,
                        int64_t anchor, const char *day)
{
    CHECK(alert_is(tk, i, "type", "LOGISTICS_STALLED"), "alert %ld type", i);
    CHECK(alert_is(tk, i, "shop_id", "s1"), "alert %ld shop", i);
    CHECK(alert_is(tk, i, "customer_id", customer), "alert %ld customer, want %s", i, customer);
    CHECK(alert_is(tk, i, "day", day), "alert %ld day, want %s", i, day);
    EQ(alert_i64(tk, i, "raised_ts"), raised);
    EQ(alert_i64(tk, i, "anchor_ts"), anchor);
    EQ(alert_i64(tk, i, "figure"), HRS(48));
}

/* The figures derived at the end of scenario.jsonl. */
static void check_scenario(csm_testkit *tk)
{
    EQ(board(tk, "s1", "2026-11-20", "shipments"), 3);
    EQ(allday(tk, "s1", "2026-11-20", "shipments"), 4);
    EQ(board(tk, "s1", "2026-11-20", "logistics_stalled"), 1);
    EQ(allday(tk, "s1", "2026-11-20", "logistics_stalled"), 2);
    EQ(board(tk, "s1", "2026-11-21", "shipments"), 1);
    EQ(allday(tk, "s1", "2026-11-21", "shipments"), 1);
    EQ(board(tk, "s1", "2026-11-21", "logistics_stalled"), 1);
    EQ(allday(tk, "s1", "2026-11-21", "logistics_stalled"), 1);
    EQ(allday(tk, "s1", "2026-11-22", "shipments"), 0);
    EQ(allday(tk, "s1", "2026-11-22", "logistics_stalled"), 0);
    EQ(allday(tk, "s1", "2026-11-23", "logistics_stalled"), 0);
    EQ(board(tk, "s2", "2026-11-20", "shipments"), 1);
    EQ(board(tk, "s2", "2026-11-21", "shipments"), 1);
    EQ(allday(tk, "s2", "2026-11-20", "logistics_stalled"), 0);
    EQ(allday(tk, "s2", "2026-11-21", "logistics_stalled"), 0);

    EQ(csm_testkit_alert_count(tk, NULL, NULL), 3);
    EQ(csm_testkit_alert_count(tk, "s1", "LOGISTICS_STALLED"), 3);
    EQ(csm_testkit_alert_count(tk, "s2", NULL), 0);
    check_alert(tk, 0, "c2", AT(2, 11, 0), AT(0, 11, 0), "2026-11-20");
    check_alert(tk, 1, "c3", AT(3, 7, 0), AT(0, 7, 30), "2026-11-20");
    check_alert(tk, 2, "c5", AT(3, 10, 0), AT(1, 10, 0), "2026-11-21");
    /* Every order was delivered or stalled: nothing left in memory. */
    EQ((int64_t)csm_testkit_state_entries(tk), 0);
}

static void test_scenario(void)
{
    csm_testkit *tk = run_scenario(0);
    check_scenario(tk);
    csm_testkit_free(tk);
}

/* The same figures and alerts with a restart before every event: orders in
 * transit, their clocks and pending timers all survive save_entry() and
 * load_entry(); the alert and count of o2 are not repeated. */
static void test_scenario_restarts(void)
{
    csm_testkit *tk = run_scenario(1);
    check_scenario(tk);
    csm_testkit_free(tk);
}

static void feed_order(csm_testkit *tk, const char *id, const char *order, const char *type,
                       int64_t ts)
{
    char line[512];
    snprintf(line, sizeof line,
             "{\"stream\":\"order\",\"event_id\":\"%s\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
             "\"customer_id\":\"c-%s\",\"ts\":%lld,\"order_id\":\"%s\",\"type\":\"%s\"}",
             id, order, (long long)ts, order, type);
    feed(tk, line);
}

/* stall_after 2h, all on 11-20 (board).
 * b1: SHIPPED 10:00, update at exactly 12:00: in time (an event at a
 *     timer's deadline is applied first); DELIVERED 13:00.
 * b2: SHIPPED 10:00, update at 12:00:00.001: stalled when event time
 *     passed 12:00, so raised at 12:00 exactly, figure 7 200 000 ms.
 * b3: SHIPPED 10:00, update 11:00, nothing more: stalled at 13:00 (2 h
 *     after the update), when the input ends.
 * The restart between b2's deadline and its late update changes nothing:
 * 3 shipments, 2 stalled, alerts b2 then b3. */
static void test_boundary(void)
{
    csm_testkit *tk = start("    stall_after: 2h\n");
    feed_order(tk, "e1", "b1", "SHIPPED", AT(0, 10, 0));
    feed_order(tk, "e2", "b2", "SHIPPED", AT(0, 10, 0));
    feed_order(tk, "e3", "b3", "SHIPPED", AT(0, 10, 0));
    feed_order(tk, "e4", "b3", "LOGISTICS_UPDATE", AT(0, 11, 0));
    feed_order(tk, "e5", "b1", "LOGISTICS_UPDATE", AT(0, 12, 0));
    restart(tk);
    feed_order(tk, "e6", "b2", "LOGISTICS_UPDATE", AT(0, 12, 0) + 1);
    feed_order(tk, "e7", "b1", "DELIVERED", AT(0, 13, 0));
    csm_testkit_end(tk);
    EQ(board(tk, "s1", "2026-11-20", "shipments"), 3);
    EQ(board(tk, "s1", "2026-11-20", "logistics_stalled"), 2);
    EQ(csm_testkit_alert_count(tk, "s1", "LOGISTICS_STALLED"), 2);
    CHECK(alert_is(tk, 0, "customer_id", "c-b2"), "first alert is b2's");
    EQ(alert_i64(tk, 0, "raised_ts"), AT(0, 12, 0));
    EQ(alert_i64(tk, 0, "figure"), HRS(2));
    CHECK(alert_is(tk, 1, "customer_id", "c-b3"), "second alert is b3's");
    EQ(alert_i64(tk, 1, "raised_ts"), AT(0, 13, 0));
    EQ(alert_i64(tk, 1, "anchor_ts"), AT(0, 10, 0));
    EQ(alert_i64(tk, 1, "figure"), HRS(2));
    csm_testkit_free(tk);
}

/* The configuration is checked: stall_after must be positive, and an
 * unknown key is refused. */
static void test_config(void)
{
    static const char *const bad[] = {"    stall_after: 0\n", "    stall_after: -1h\n",
                                      "    stall_affter: 1h\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char yaml[1024], err[512] = "";
        snprintf(yaml, sizeof yaml, "plugin_path: \"%s\"\nplugins:\n  - name: logistics_stall\n%s",
                 plugin_dir, bad[i]);
        csm_testkit *tk = csm_testkit_new(yaml, err, sizeof err);
        CHECK(!tk, "accepted %s", bad[i]);
        csm_testkit_free(tk);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SCENARIO_DIR PLUGIN_DIR\n", argv[0]);
        return 2;
    }
    scenario_dir = argv[1];
    plugin_dir = argv[2];
    test_scenario();
    test_scenario_restarts();
    test_boundary();
    test_config();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_logistics_stall: all checks passed\n");
    return 0;
}
