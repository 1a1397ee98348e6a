/* The engine's promises (metrics.md "Event time", "Settled details"),
 * checked through the probe plugin (tests/plugins/probe): ordering within
 * the allowed lateness, late and duplicate events, the 7-day rule, timers
 * firing only once event time has passed them, windows, days and hours in
 * the shop's zone, and a checkpoint that continues exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytebuf.h"
#include "codec.h"
#include "csmetrics/testkit.h"
#include "delta_view.h"
#include "engine.h"

#include "../support/count_alloc.h"
#include "../support/engine_world.h"
#include "engine_internal.h"

/* 2026-11-20T00:00:00+08:00, the default zone Asia/Shanghai. */
#define DAY0 1795104000000LL
#define H (3600 * 1000LL)
#define S 1000LL
#define MIN (60 * 1000LL)

static char line[1024];

static const char *chat(const char *id, long long ts, const char *extra)
{
    snprintf(line, sizeof line,
             "{\"stream\":\"chat\",\"event_id\":\"%s\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
             "\"customer_id\":\"c1\",\"ts\":%lld,\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\","
             "\"msg_kind\":\"TEXT\"%s%s}",
             id, ts, extra ? "," : "", extra ? extra : "");
    return line;
}

static csm_testkit *kit(const char *yaml)
{
    char err[512];
    csm_testkit *tk = csm_testkit_new(yaml, err, sizeof err);
    if (!tk)
        fail_msg("testkit: %s", err);
    return tk;
}

#define PROBE "plugins:\n  - probe\n"

static void reorders_within_lateness(void **state)
{
    csm_testkit *tk = kit(PROBE);
    long long t = DAY0 + 10 * H;
    assert_int_equal(csm_testkit_feed(tk, chat("a", t + 10 * S, NULL)), CSM_TK_ACCEPTED);
    assert_int_equal(csm_testkit_feed(tk, chat("b", t + 6 * S, NULL)), CSM_TK_ACCEPTED);
    /* exactly the allowed lateness (5 s) behind is accepted, 1 ms more is late */
    assert_int_equal(csm_testkit_feed(tk, chat("c", t + 5 * S, NULL)), CSM_TK_ACCEPTED);
    assert_int_equal(csm_testkit_feed(tk, chat("d", t + 5 * S - 1, NULL)), CSM_TK_LATE);
    csm_testkit_end(tk);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "events"), 3);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "out_of_order"), 0);
    csm_testkit_free(tk);
}

static void duplicates_count_once(void **state)
{
    csm_testkit *tk = kit(PROBE);
    long long t = DAY0 + 10 * H;
    assert_int_equal(csm_testkit_feed(tk, chat("a", t, NULL)), CSM_TK_ACCEPTED);
    assert_int_equal(csm_testkit_feed(tk, chat("a", t + S, NULL)), CSM_TK_DUPLICATE);
    /* the same id on the other stream is another event */
    snprintf(line, sizeof line,
             "{\"stream\":\"order\",\"event_id\":\"a\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
             "\"customer_id\":\"c1\",\"ts\":%lld,\"order_id\":\"o1\",\"type\":\"PAID\"}",
             t);
    assert_int_equal(csm_testkit_feed(tk, line), CSM_TK_ACCEPTED);
    csm_testkit_end(tk);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "events"), 2);
    csm_testkit_free(tk);
}

static void seven_day_rule_and_contract(void **state)
{
    csm_testkit *tk = kit(PROBE);
    long long t = DAY0 + 10 * H, week = 7 * 24 * H;
    assert_int_equal(csm_testkit_feed(tk, chat("a", t, NULL)), CSM_TK_ACCEPTED);
    assert_int_equal(csm_testkit_feed(tk, chat("b", t + week + 1, NULL)), CSM_TK_DEADLETTER);
    assert_non_null(strstr(csm_testkit_last_reason(tk), "event time"));
    assert_int_equal(csm_testkit_feed(tk, chat("c", t - week - 1, NULL)), CSM_TK_DEADLETTER);
    /* a dead letter's id is not remembered: a later good copy counts */
    assert_int_equal(csm_testkit_feed(tk, chat("b", t + S, NULL)), CSM_TK_ACCEPTED);
    assert_int_equal(csm_testkit_feed(tk, "{\"stream\":\"chat\",\"event_id\":\"x\"}"),
                     CSM_TK_DEADLETTER);
    assert_int_equal(csm_testkit_feed(tk, chat("d", t, "\"entry\":\"MARS\"")), CSM_TK_DEADLETTER);
    assert_non_null(strstr(csm_testkit_last_reason(tk), "bad enum value 'MARS' for field entry"));
    csm_testkit_end(tk);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "events"), 2);
    csm_testkit_free(tk);
}

static void timers_fire_after_events_at_their_deadline(void **state)
{
    csm_testkit *tk = kit("plugins:\n  - name: probe\n    timer_after: 60s\n");
    long long t = DAY0 + 10 * H;
    csm_testkit_feed(tk, chat("a", t, NULL));
    csm_testkit_feed(tk, chat("b", t + MIN, NULL));
    /* frontier = t + 60 s: the timer at t + 60 s has not been passed yet */
    csm_testkit_feed(tk, chat("c", t + MIN + 5 * S, NULL));
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "timers"), 0);
    /* frontier = t + 60.001 s: now it has */
    csm_testkit_feed(tk, chat("d", t + MIN + 5 * S + 1, NULL));
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "timers"), 1);
    assert_int_equal(
        csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "timer_after_event_at_deadline"), 1);
    csm_testkit_end(tk); /* the remaining three timers fire at the end */
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "timers"), 4);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "timer_late"), 0);
    csm_testkit_free(tk);
}

static void windows_days_and_hours_are_the_shops(void **state)
{
    csm_testkit *tk = kit(PROBE);
    csm_testkit_feed(tk, chat("a", DAY0 + 8 * H - 1, NULL));      /* 07:59:59.999 */
    csm_testkit_feed(tk, chat("b", DAY0 + 8 * H, NULL));          /* 08:00:00.000 */
    csm_testkit_feed(tk, chat("c", DAY0 + 23 * H - 1, NULL));     /* 22:59:59.999 */
    csm_testkit_feed(tk, chat("d", DAY0 + 23 * H, NULL));         /* 23:00:00.000 */
    csm_testkit_feed(tk, chat("e", DAY0 + 24 * H - 1, NULL));     /* 23:59:59.999 */
    csm_testkit_feed(tk, chat("f", DAY0 + 24 * H + 8 * H, NULL)); /* next day 08:00 */
    csm_testkit_feed(tk, chat("g", DAY0 + 48 * H + 7 * H, NULL)); /* 11-22 07:00 */
    csm_testkit_end(tk);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "events"), 5);
    assert_int_equal(csm_testkit_counter(tk, "board", "s1", "2026-11-20", "events"), 2);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "hourly.events.07"), 1);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "hourly.events.23"), 2);
    assert_int_equal(csm_testkit_counter(tk, "board", "s1", "2026-11-20", "hourly.events.23"), 0);
    assert_int_equal(csm_testkit_counter(tk, "board", "s1", "2026-11-20", "hourly.events.22"), 1);
    assert_int_equal(csm_testkit_counter(tk, "board", "s1", "2026-11-21", "events"), 1);
    assert_int_equal(csm_testkit_set_size(tk, "s1", "2026-11-20", "customers"), 1);
    /* Set members go to the board like counters: c1 came in the window on
     * 11-20 and 11-21, only at 07:00 on 11-22. */
    assert_int_equal(csm_testkit_board_set_size(tk, "s1", "2026-11-20", "customers"), 1);
    assert_int_equal(csm_testkit_board_set_size(tk, "s1", "2026-11-21", "customers"), 1);
    assert_int_equal(csm_testkit_set_size(tk, "s1", "2026-11-22", "customers"), 1);
    assert_int_equal(csm_testkit_board_set_size(tk, "s1", "2026-11-22", "customers"), 0);
    csm_testkit_free(tk);
}

static void shop_zone_and_window_from_config(void **state)
{
    /* Europe/Berlin is UTC+1 in November: 2026-11-20 00:00 Berlin = DAY0 + 7 h. */
    csm_testkit *tk = kit("shops:\n  s1:\n    timezone: Europe/Berlin\n"
                          "    window: \"09:00-19:00\"\n" PROBE);
    csm_testkit_feed(tk, chat("a", DAY0 + 7 * H + 9 * H - 1, NULL)); /* 08:59:59.999 Berlin */
    csm_testkit_feed(tk, chat("b", DAY0 + 7 * H + 9 * H, NULL));     /* 09:00 Berlin */
    csm_testkit_feed(tk, chat("c", DAY0 + 7 * H + 19 * H, NULL));    /* 19:00 Berlin */
    csm_testkit_end(tk);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "events"), 3);
    assert_int_equal(csm_testkit_counter(tk, "board", "s1", "2026-11-20", "events"), 1);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "hourly.events.08"), 1);
    csm_testkit_free(tk);
}

static void agents_sets_and_alerts(void **state)
{
    csm_testkit *tk = kit(PROBE);
    long long t = DAY0 + 10 * H;
    csm_testkit_feed(tk, chat("a", t, "\"agent_id\":\"ag1\""));
    snprintf(line, sizeof line,
             "{\"stream\":\"chat\",\"event_id\":\"r\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
             "\"customer_id\":\"c2\",\"ts\":%lld,\"type\":\"RATED\",\"stars\":1}",
             t + S);
    assert_int_equal(csm_testkit_feed(tk, line), CSM_TK_ACCEPTED);
    csm_testkit_end(tk);
    assert_int_equal(csm_testkit_counter(tk, "agent:ag1", "s1", "2026-11-20", "events"), 1);
    assert_int_equal(csm_testkit_set_size(tk, "s1", "2026-11-20", "customers"), 2);
    assert_int_equal(csm_testkit_alert_count(tk, "s1", "PROBE"), 1);
    assert_string_equal(csm_testkit_alert_field(tk, 0, "customer_id"), "c2");
    assert_string_equal(csm_testkit_alert_field(tk, 0, "figure"), "1");
    assert_string_equal(csm_testkit_alert_field(tk, 0, "day"), "2026-11-20");
    csm_testkit_free(tk);
}

static void refuses_bad_plugins_clearly(void **state)
{
    char err[1024];
    assert_null(csm_testkit_new("plugins:\n  - bad_abi\n", err, sizeof err));
    assert_non_null(strstr(err, "ABI"));
    assert_null(csm_testkit_new("plugins:\n  - no_entry\n", err, sizeof err));
    assert_non_null(strstr(err, "csm_plugin_entry"));
    assert_null(csm_testkit_new("plugins:\n  - nowhere\n", err, sizeof err));
    assert_non_null(strstr(err, "not found"));
    assert_null(csm_testkit_new("plugins:\n  - name: probe\n    nonsense: 1\n", err, sizeof err));
    assert_non_null(strstr(err, "nonsense"));
    assert_null(
        csm_testkit_new("plugins:\n  - name: probe\n    timer_after: soon\n", err, sizeof err));
    assert_non_null(strstr(err, "timer_after"));
}

/* A run cut in two by snapshot/restore gives exactly the writes of the
 * uninterrupted run, whatever the cut point. */
#define PROBE_TIMERS "plugins:\n  - name: probe\n    timer_after: 90s\n"

static void offer_nth(csm_engine *e, int i)
{
    /* Arrival jitter of up to 4 s, a duplicate every 7th event, two customers. */
    long long ts = DAY0 + 9 * H + (long long)i * 700 - (i % 5) * 800;
    char id[32];
    snprintf(id, sizeof id, "e%d", i % 7 == 6 ? i - 1 : i);
    snprintf(line, sizeof line,
             "{\"stream\":\"chat\",\"event_id\":\"%s\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
             "\"customer_id\":\"c%d\",\"ts\":%lld,\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\"}",
             id, i % 2, ts);
    csm_event_slot slot;
    char err[256];
    assert_int_equal(csm_json_decode_line(line, strlen(line), &slot, err, sizeof err), 0);
    csm_engine_offer(e, &slot.ev, err, sizeof err);
}

typedef struct compare {
    const csm_deltas *other;
    int mismatches;
} compare;

static void compare_op(void *arg, const csm_delta_op *op)
{
    compare *c = arg;
    if (op->kind == CSM_DELTA_HINCRBY && csm_deltas_get(c->other, op->key, op->field) != op->value)
        c->mismatches++;
}

static void checkpoint_continues_exactly(void **state)
{
    const int n = 400;
    world w;
    world_open(&w, PROBE_TIMERS);
    char err[256];
    csm_engine *whole = csm_engine_new(&w.cfg, w.chain, w.st, 0, err, sizeof err);
    for (int i = 0; i < n; i++)
        offer_nth(whole, i);
    csm_engine_finish(whole);

    for (int cut = 1; cut < n; cut += 37) {
        csm_engine *first = csm_engine_new(&w.cfg, w.chain, w.st, 0, err, sizeof err);
        for (int i = 0; i < cut; i++)
            offer_nth(first, i);
        csm_writer snap = {0};
        assert_int_equal(csm_engine_snapshot(first, &snap), 0);
        csm_engine *second = csm_engine_new(&w.cfg, w.chain, w.st, 0, err, sizeof err);
        assert_int_equal(csm_engine_restore(second, snap.data, snap.len, err, sizeof err), 0);
        for (int i = cut; i < n; i++)
            offer_nth(second, i);
        csm_engine_finish(second);
        csm_deltas *sum = csm_deltas_new(w.cfg.prefix);
        csm_deltas_merge(sum, csm_engine_deltas(first));
        csm_deltas_merge(sum, csm_engine_deltas(second));
        compare c = {sum, 0}, back = {csm_engine_deltas(whole), 0};
        csm_deltas_foreach(csm_engine_deltas(whole), compare_op, &c);
        csm_deltas_foreach(sum, compare_op, &back);
        assert_int_equal(c.mismatches, 0);
        assert_int_equal(back.mismatches, 0);
        assert_memory_equal(csm_engine_stats_get(whole), csm_engine_stats_get(second),
                            sizeof(csm_engine_stats));
        csm_deltas_free(sum);
        csm_writer_free(&snap);
        csm_engine_free(first);
        csm_engine_free(second);
    }
    /* sanity: the scenario did produce duplicates and timers */
    assert_true(csm_engine_stats_get(whole)->duplicate[0] > 0);
    assert_true(csm_engine_stats_get(whole)->timers_fired > 0);
    csm_engine_free(whole);
    world_close(&w);
}

/* Counts of one interval: ten shops' ids in one reused buffer (as an
 * event's), shop counters with hourly series, splits and subjects. */
static void count_interval(csm_engine *e)
{
    csm_host *h = &e->hosts[0];
    char shop[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(shop, sizeof shop, "s%d", i % 10);
        csm_count c = {.struct_size = sizeof c,
                       .shop_id = shop,
                       .platform = CSM_PLATFORM_TAOBAO,
                       .anchor_ts = DAY0 + 9 * H + (i % 5) * H,
                       .scope = CSM_SCOPE_SHOP,
                       .name = "sessions_started",
                       .flags = CSM_COUNT_HOURLY,
                       .delta = 1};
        csm_host_api_v1.count(h, &c);
        c.split = i % 2 ? "presale" : "aftersale";
        c.name = "rated";
        csm_host_api_v1.count(h, &c);
        c.split = NULL;
        c.scope = CSM_SCOPE_AGENT;
        c.subject = i % 3 ? "a1" : "a2";
        c.name = "replies";
        csm_host_api_v1.count(h, &c);
        csm_set_member m = {
            sizeof m,           shop, CSM_PLATFORM_TAOBAO, c.anchor_ts, "aftersale_seekers",
            i % 4 ? "c1" : "c2"};
        csm_host_api_v1.set_add(h, &m);
    }
}

/* From a plugin's count to its pending write nothing is allocated once
 * the names are interned and the tables have grown: the second interval
 * makes no allocation, and its figures are those of one interval. */
static void counts_allocate_nothing_in_steady_state(void **state)
{
    (void)state;
    world w;
    world_open(&w, PROBE);
    char err[256];
    csm_engine *e = csm_engine_new(&w.cfg, w.chain, w.st, 0, err, sizeof err);
    assert_non_null(e);
    count_allocations();
    count_interval(e);
    csm_deltas_clear(csm_engine_deltas(e));
    long before = allocations;
    count_interval(e);
    assert_int_equal(allocations, before);
    const csm_deltas *d = csm_engine_deltas(e);
    /* DAY0 is 2026-11-20 00:00 in Asia/Shanghai; shop s3 gets i = 3, 13,
     * … 993: 100 counts, all at hour 9 + 3 (i % 5 = 3), half of them
     * presale (odd i: all of them), agent a1 unless i % 3 == 0. */
    const char *k = "csm:{s3}:allday:2026-11-20";
    assert_int_equal(csm_deltas_get(d, k, "sessions_started"), 100);
    assert_int_equal(csm_deltas_get(d, k, "hourly.sessions_started.12"), 100);
    assert_int_equal(csm_deltas_get(d, k, "split.presale.rated"), 100);
    assert_int_equal(csm_deltas_get(d, k, "split.aftersale.rated"), 0);
    assert_int_equal(csm_deltas_get(d, "csm:{s3}:agent:2026-11-20:a2", "replies"), 34);
    assert_int_equal(csm_deltas_get(d, "csm:{s3}:agent:2026-11-20:a1", "replies"), 66);
    csm_engine_free(e);
    world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reorders_within_lateness),
        cmocka_unit_test(duplicates_count_once),
        cmocka_unit_test(seven_day_rule_and_contract),
        cmocka_unit_test(timers_fire_after_events_at_their_deadline),
        cmocka_unit_test(windows_days_and_hours_are_the_shops),
        cmocka_unit_test(shop_zone_and_window_from_config),
        cmocka_unit_test(agents_sets_and_alerts),
        cmocka_unit_test(refuses_bad_plugins_clearly),
        cmocka_unit_test(checkpoint_continues_exactly),
        cmocka_unit_test(counts_allocate_nothing_in_steady_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
