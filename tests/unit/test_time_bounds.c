/* Absurd timestamps (issue 9): the bounds' verdicts and reasons, event-time
 * arithmetic that saturates instead of overflowing, and INT64_MIN,
 * INT64_MAX, 0 and -1 offered first, in the middle and last in a partition
 * through the whole default chain (plus the probe, whose counters are
 * easy to derive) without disturbing a single good event. Meant to pass
 * under the ASan/UBSan build with UBSAN_OPTIONS=halt_on_error=1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytebuf.h"
#include "codec.h"
#include "delta_view.h"
#include "engine.h"
#include "keys.h"
#include "time_bounds.h"

#include "../support/engine_world.h"

/* 2026-11-20T00:00:00+08:00 (Asia/Shanghai, the default zone). */
#define DAY0 1795104000000LL
#define H (3600 * 1000LL)
#define MIN (60 * 1000LL)
#define DAY (24 * H)
/* The wall clock the bounded cases pretend it is: noon that day. */
#define NOW (DAY0 + 12 * H)
#define N_GOOD 6

static const csm_time_bounds run_bounds = {H, 400 * DAY}; /* the defaults */
static const csm_time_bounds replay_bounds = {H, 0};

static const char *verdict_of(const csm_time_bounds *b, csm_ts ts)
{
    static char reason[256];
    reason[0] = 0;
    return csm_time_bounds_check(b, ts, NOW, reason, sizeof reason) ? reason : "ok";
}

static void bounds_verdicts(void **state)
{
    (void)state;
    const csm_time_bounds *run = &run_bounds, *replay = &replay_bounds;
    assert_string_equal(verdict_of(run, INT64_MIN), "timestamp -9223372036854775808 out of range");
    assert_string_equal(verdict_of(run, -1), "timestamp -1 out of range");
    assert_string_equal(verdict_of(run, 0), "timestamp 0 out of range");
    assert_string_equal(verdict_of(replay, 0), "timestamp 0 out of range");
    /* (NOW - 1) / DAY = 20777 whole days; 1970-01-02 is one day less. */
    assert_string_equal(verdict_of(run, 1),
                        "timestamp 1 is older than the horizon (20777 days behind the wall clock)");
    assert_string_equal(
        verdict_of(run, DAY),
        "timestamp 86400000 is older than the horizon (20776 days behind the wall clock)");
    assert_string_equal(verdict_of(replay, 1),
                        "timestamp 1 out of range (before 2000-01-01T00:00:00Z)");
    assert_string_equal(verdict_of(replay, CSM_TS_FLOOR - 1),
                        "timestamp 946684799999 out of range (before 2000-01-01T00:00:00Z)");
    assert_string_equal(verdict_of(replay, CSM_TS_FLOOR), "ok");
    /* the horizon: exactly 400 days behind passes, 1 ms more does not */
    assert_string_equal(verdict_of(run, NOW - 400 * DAY), "ok");
    assert_string_equal(
        verdict_of(run, NOW - 400 * DAY - 1),
        "timestamp 1760587199999 is older than the horizon (400 days behind the wall clock)");
    assert_string_equal(verdict_of(replay, NOW - 4000 * DAY), "ok");
    /* the skew: exactly 1 h ahead passes, 1 ms more does not */
    assert_string_equal(verdict_of(run, NOW + H), "ok");
    assert_string_equal(verdict_of(run, NOW + H + 1),
                        "timestamp 1795150800001 is 3600001 ms ahead of the wall clock "
                        "(max_clock_skew 3600000 ms)");
    assert_string_equal(verdict_of(replay, NOW + 8 * DAY),
                        "timestamp 1795838400000 is 691200000 ms ahead of the wall clock "
                        "(max_clock_skew 3600000 ms)");
    /* INT64_MAX - NOW = 9223372036854775807 - 1795147200000 */
    assert_string_equal(verdict_of(run, INT64_MAX),
                        "timestamp 9223372036854775807 is 9223370241707575807 ms ahead of the "
                        "wall clock (max_clock_skew 3600000 ms)");
    /* without bounds (test kit) only the range: 1 .. 9999-12-31T23:59:59.999Z */
    assert_string_equal(verdict_of(NULL, 1), "ok");
    assert_string_equal(verdict_of(NULL, CSM_TS_VALID_MAX), "ok");
    assert_string_equal(verdict_of(NULL, CSM_TS_VALID_MAX + 1),
                        "timestamp 253402300800000 out of range");
    assert_string_equal(verdict_of(NULL, INT64_MAX), "timestamp 9223372036854775807 out of range");
    /* a skew so large that now + skew overflows still only lets the range through */
    const csm_time_bounds huge = {INT64_MAX, 0};
    assert_string_equal(verdict_of(&huge, INT64_MAX), "timestamp 9223372036854775807 out of range");
}

static void saturating_arithmetic(void **state)
{
    (void)state;
    assert_true(csm_ts_add(INT64_MAX, 1) == INT64_MAX);
    assert_true(csm_ts_add(INT64_MAX - 10, 604800000) == INT64_MAX);
    assert_true(csm_ts_add(1, 604800000) == 604800001);
    assert_true(csm_ts_add(INT64_MIN + 5, -10) == INT64_MIN + 1);
    /* CSM_TS_NONE (INT64_MIN) is never produced by arithmetic */
    assert_true(csm_ts_add(INT64_MIN + 1, -1) == INT64_MIN + 1);
    assert_true(csm_ts_sub(INT64_MIN + 1, 5000) == INT64_MIN + 1);
    assert_true(csm_ts_sub(0, INT64_MIN) == INT64_MAX);
    assert_true(csm_ts_sub(-1, INT64_MAX) == INT64_MIN + 1);
    assert_true(csm_ts_sub(DAY0, 5000) == DAY0 - 5000);
}

/* The keys' defaults, and values refused with an error naming the key. */
static void config_keys(void **state)
{
    (void)state;
    csm_config cfg;
    char err[512];
    assert_int_equal(csm_config_load_string("", &cfg, err, sizeof err), 0);
    assert_true(cfg.max_clock_skew_ms == H && cfg.horizon_ms == 400 * DAY);
    const csm_time_bounds run = csm_time_bounds_run(&cfg), replay = csm_time_bounds_replay(&cfg);
    assert_true(run.max_skew_ms == H && run.horizon_ms == 400 * DAY);
    assert_true(replay.max_skew_ms == H && replay.horizon_ms == 0);
    csm_config_free(&cfg);
    assert_int_equal(csm_config_load_string("pipeline:\n  horizon: 1d\n  max_clock_skew: 0s\n",
                                            &cfg, err, sizeof err),
                     0);
    assert_true(cfg.max_clock_skew_ms == 0 && cfg.horizon_ms == DAY);
    csm_config_free(&cfg);
    assert_int_equal(csm_config_load_string("pipeline:\n  horizon: 23h\n", &cfg, err, sizeof err),
                     -1);
    assert_string_equal(err, "pipeline.horizon: must be between 1d and 3650d, got 23h");
    csm_config_free(&cfg);
    assert_int_equal(
        csm_config_load_string("pipeline:\n  max_clock_skew: -1s\n", &cfg, err, sizeof err), -1);
    assert_memory_equal(err, "pipeline.max_clock_skew: ", 25);
    csm_config_free(&cfg);
}

/* ---- through the engine ---- */

/* The default chain, so that every plugin sees what the engine accepts,
 * and the probe, whose "events" count is easy to derive. */
#define CHAIN                                                                                      \
    "plugins: [session, sla, unserved, satisfaction, fcr, orders, "                                \
    "{name: probe, timer_after: 90s}]\n"

static csm_verdict offer(csm_engine *e, const char *id, csm_ts ts, char *reason, size_t len)
{
    char line[512];
    /* decoded with a plain ts, then given the value under test: the JSON
     * reader is not what is being tested here */
    snprintf(line, sizeof line,
             "{\"stream\":\"chat\",\"event_id\":\"%s\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
             "\"customer_id\":\"c1\",\"ts\":%lld,\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\","
             "\"msg_kind\":\"TEXT\"}",
             id, (long long)DAY0);
    csm_event_slot slot;
    assert_int_equal(csm_json_decode_line(line, strlen(line), &slot, reason, len), 0);
    slot.ev.ts = ts;
    reason[0] = 0;
    return csm_engine_offer(e, &slot.ev, reason, len);
}

static int64_t probe_events(world *w, csm_engine *e)
{
    char key[256];
    assert_true(csm_key_block(key, sizeof key, w->cfg.prefix, "s1", "allday",
                              csm_shoptime_day(w->st, "s1", DAY0)) > 0);
    return csm_deltas_get(csm_engine_deltas(e), key, "events");
}

/* N_GOOD customer messages a minute apart from 10:00, with the absurd one
 * before good event @p pos (N_GOOD: after the last). */
static void one_absurd_event(world *w, const csm_time_bounds *b, csm_ts absurd, int pos,
                             const char *want_reason)
{
    char err[256], reason[512];
    csm_engine *e = csm_engine_new(&w->cfg, w->chain, w->st, 0, err, sizeof err);
    assert_non_null(e);
    if (b)
        csm_engine_set_wall_clock(e, b, NOW);
    for (int i = 0; i <= N_GOOD; i++) {
        if (i == pos) {
            assert_int_equal(offer(e, "absurd", absurd, reason, sizeof reason),
                             CSM_VERDICT_DEADLETTER);
            assert_string_equal(reason, want_reason);
        }
        if (i < N_GOOD) {
            char id[8];
            snprintf(id, sizeof id, "g%d", i);
            assert_int_equal(offer(e, id, DAY0 + 10 * H + i * MIN, reason, sizeof reason),
                             CSM_VERDICT_ACCEPTED);
        }
    }
    csm_engine_finish(e);
    const csm_engine_stats *st = csm_engine_stats_get(e);
    assert_int_equal(st->offered[CSM_STREAM_CHAT], N_GOOD + 1);
    assert_int_equal(st->accepted[CSM_STREAM_CHAT], N_GOOD);
    assert_int_equal(st->applied[CSM_STREAM_CHAT], N_GOOD);
    assert_int_equal(st->deadletter[CSM_STREAM_CHAT], 1);
    assert_int_equal(st->late[CSM_STREAM_CHAT], 0);
    assert_int_equal(probe_events(w, e), N_GOOD);
    /* the clock is the last good event's */
    assert_true(csm_engine_event_time(e) == DAY0 + 10 * H + (N_GOOD - 1) * MIN);
    csm_engine_free(e);
}

static void absurd_first_middle_last(void **state)
{
    (void)state;
    world w;
    world_open(&w, CHAIN);
    const struct {
        csm_ts ts;
        const char *unbounded, *bounded;
    } cases[] = {
        {INT64_MIN, "timestamp -9223372036854775808 out of range",
         "timestamp -9223372036854775808 out of range"},
        {INT64_MAX, "timestamp 9223372036854775807 out of range",
         "timestamp 9223372036854775807 is 9223370241707575807 ms ahead of the wall clock "
         "(max_clock_skew 3600000 ms)"},
        {0, "timestamp 0 out of range", "timestamp 0 out of range"},
        {-1, "timestamp -1 out of range", "timestamp -1 out of range"},
    };
    const int positions[] = {0, N_GOOD / 2, N_GOOD};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (size_t p = 0; p < 3; p++) {
            one_absurd_event(&w, NULL, cases[c].ts, positions[p], cases[c].unbounded);
            one_absurd_event(&w, &run_bounds, cases[c].ts, positions[p], cases[c].bounded);
        }
    world_close(&w);
}

/* ts = 1 first used to become the partition's clock and push every real
 * event out by the 7-day rule; with bounds it is refused and nothing is. */
static void tiny_ts_first_does_not_poison(void **state)
{
    (void)state;
    world w;
    world_open(&w, CHAIN);
    one_absurd_event(&w, &run_bounds, 1, 0,
                     "timestamp 1 is older than the horizon (20777 days behind the wall clock)");
    one_absurd_event(&w, &replay_bounds, 1, 0,
                     "timestamp 1 out of range (before 2000-01-01T00:00:00Z)");
    one_absurd_event(&w, &run_bounds, NOW + 8 * DAY, N_GOOD / 2,
                     "timestamp 1795838400000 is 691200000 ms ahead of the wall clock "
                     "(max_clock_skew 3600000 ms)");
    world_close(&w);
}

/* An engine whose clock was idle-advanced to @p clock, as an older
 * version did after accepting INT64_MAX; finishing it must not overflow. */
static void snapshot_with_clock(world *w, csm_ts clock, csm_writer *snap)
{
    char err[256], reason[512];
    csm_engine *old = csm_engine_new(&w->cfg, w->chain, w->st, 0, err, sizeof err);
    if (clock > DAY0)
        assert_int_equal(offer(old, "g0", DAY0 + 10 * H, reason, sizeof reason),
                         CSM_VERDICT_ACCEPTED);
    csm_engine_advance_to(old, clock);
    csm_engine_finish(old);
    assert_int_equal(csm_engine_snapshot(old, snap), 0);
    csm_engine_free(old);
}

/* rc of restoring @p snap, with or without the run's bounds; err starts with @p want. */
static void restore_says(world *w, const csm_writer *snap, const csm_time_bounds *b, int want_rc,
                         const char *want)
{
    char err[512] = "";
    csm_engine *e = csm_engine_new(&w->cfg, w->chain, w->st, 0, err, sizeof err);
    if (b)
        csm_engine_set_wall_clock(e, b, NOW);
    assert_int_equal(csm_engine_restore(e, snap->data, snap->len, err, sizeof err), want_rc);
    if (want) {
        assert_memory_equal(err, want, strlen(want));
        assert_non_null(strstr(err, "docs/running.md"));
    }
    csm_engine_free(e);
}

/* A checkpoint whose clock is out of bounds is refused on restore. */
static void absurd_checkpoint_clock_refused(void **state)
{
    (void)state;
    world w;
    world_open(&w, CHAIN);
    csm_writer snap = {0};
    snapshot_with_clock(&w, 9223372036854715807LL, &snap);
    restore_says(&w, &snap, &run_bounds, -1,
                 "checkpoint: event time 9223372036854715807 is out of bounds (timestamp "
                 "9223372036854715807 is 9223370241707515807 ms ahead of the wall clock");
    restore_says(&w, &snap, NULL, -1,
                 "checkpoint: event time 9223372036854715807 is out of bounds (timestamp "
                 "9223372036854715807 out of range)");
    csm_writer_free(&snap);

    snap = (csm_writer){0};
    snapshot_with_clock(&w, INT64_MAX, &snap);
    restore_says(&w, &snap, NULL, -1,
                 "checkpoint: event time 9223372036854775807 is out of bounds (timestamp "
                 "9223372036854775807 out of range)");
    csm_writer_free(&snap);

    /* ts = 1 as the partition's clock */
    snap = (csm_writer){0};
    snapshot_with_clock(&w, 1, &snap);
    restore_says(&w, &snap, &run_bounds, -1,
                 "checkpoint: event time 1 is out of bounds (timestamp 1 is older than the "
                 "horizon (20777 days behind the wall clock))");
    restore_says(&w, &snap, &replay_bounds, -1,
                 "checkpoint: event time 1 is out of bounds (timestamp 1 out of range (before "
                 "2000-01-01T00:00:00Z))");
    restore_says(&w, &snap, NULL, 0, NULL);
    csm_writer_free(&snap);

    /* the edges: wall clock + skew; wall clock - (horizon + 7-day rule),
     * beyond which no event the horizon lets in could pass the 7-day rule */
    const struct {
        csm_ts clock;
        int rc;
    } edges[] = {{NOW + H, 0}, {NOW + H + 1, -1}, {NOW - 407 * DAY, 0}, {NOW - 407 * DAY - 1, -1}};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        snap = (csm_writer){0};
        snapshot_with_clock(&w, edges[i].clock, &snap);
        restore_says(&w, &snap, &run_bounds, edges[i].rc, NULL);
        csm_writer_free(&snap);
    }
    world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bounds_verdicts),
        cmocka_unit_test(saturating_arithmetic),
        cmocka_unit_test(config_keys),
        cmocka_unit_test(absurd_first_middle_last),
        cmocka_unit_test(tiny_ts_first_does_not_poison),
        cmocka_unit_test(absurd_checkpoint_clock_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
