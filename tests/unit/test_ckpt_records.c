/* Incremental, per-plugin checkpoints (engine_state.c, engine_load.c,
 * ckpt_mem.c): a run restarted from its checkpoints after every event ends
 * with the figures of an uninterrupted one; a flush writes only the
 * records that changed; plugins are matched by name (added: starts empty;
 * removed: dropped; a newer state version: refused). Uses the probe
 * plugin (whole snapshot, ABI 1.1 style) and tally (per-entry records). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ckpt_batch.h"
#include "ckpt_mem.h"
#include "codec.h"
#include "csmetrics/testkit.h"
#include "engine.h"

#include "../support/engine_world.h"

/* 2026-11-20T00:00:00+08:00, the default zone Asia/Shanghai. */
#define DAY0 1795104000000LL
#define T0 (DAY0 + 10 * 3600 * 1000LL)
#define S 1000LL
#define MIN (60 * S)

static char line[1024];

static const char *chat(const char *id, const char *customer, long long ts)
{
    snprintf(line, sizeof line,
             "{\"stream\":\"chat\",\"event_id\":\"%s\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
             "\"customer_id\":\"%s\",\"ts\":%lld,\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\","
             "\"msg_kind\":\"TEXT\"}",
             id, customer, ts);
    return line;
}

/* c1 five times, c2 four, c3 three, one minute apart. */
static const char *const customers[12] = {"c1", "c2", "c3", "c1", "c2", "c3",
                                          "c1", "c2", "c3", "c1", "c2", "c1"};

#define CHAIN "plugins:\n  - name: tally\n    idle: 30m\n  - name: probe\n    timer_after: 10m\n"

static csm_testkit *kit(void)
{
    char err[512];
    csm_testkit *tk = csm_testkit_new(CHAIN, err, sizeof err);
    if (!tk)
        fail_msg("testkit: %s", err);
    return tk;
}

static void feed_all(csm_testkit *tk, int restart)
{
    char err[512], id[16];
    for (int i = 0; i < 12; i++) {
        snprintf(id, sizeof id, "e%d", i);
        assert_int_equal(csm_testkit_feed(tk, chat(id, customers[i], T0 + i * MIN)),
                         CSM_TK_ACCEPTED);
        if (restart && csm_testkit_restart(tk, err, sizeof err))
            fail_msg("restart after event %d: %s", i, err);
    }
    /* The dedup memory came through every restart (e0 is 11 min old:
     * forgotten, the window being 10 min). */
    assert_int_equal(csm_testkit_feed(tk, chat("e2", "c3", T0 + 11 * MIN)), CSM_TK_DUPLICATE);
    csm_testkit_end(tk);
}

typedef struct other {
    csm_testkit *tk;
    int checked;
} other;

/* Every counter of one kit has the same value in the other. */
static int same_in_other(void *arg, const char *key, const char *field, int64_t value)
{
    other *o = arg;
    int64_t found = INT64_MIN;
    o->checked++;
    /* Only the allday and board blocks are written by these plugins. */
    const char *day = strstr(key, ":2026-");
    const char *block = strstr(key, "}:");
    if (!day || !block)
        fail_msg("unexpected key %s", key);
    char blk[32];
    snprintf(blk, sizeof blk, "%.*s", (int)(day - block - 2), block + 2);
    found = csm_testkit_counter(o->tk, blk, "s1", day + 1, field);
    if (found != value)
        fail_msg("%s %s: %lld here, %lld in the other run", key, field, (long long)value,
                 (long long)found);
    return 0;
}

static void restarts_equal_uninterrupted(void **state)
{
    (void)state;
    csm_testkit *plain = kit(), *restarted = kit();
    feed_all(plain, 0);
    feed_all(restarted, 1);
    /* By hand: 12 events; repeats 4 + 3 + 2; each customer idle once at
     * the end; one probe timer per event. */
    const char *day = "2026-11-20";
    assert_int_equal(csm_testkit_counter(restarted, "allday", "s1", day, "tally_events"), 12);
    assert_int_equal(csm_testkit_counter(restarted, "allday", "s1", day, "tally_repeat"), 9);
    assert_int_equal(csm_testkit_counter(restarted, "allday", "s1", day, "tally_idle"), 3);
    assert_int_equal(csm_testkit_counter(restarted, "allday", "s1", day, "timers"), 12);
    assert_int_equal(csm_testkit_counter(restarted, "allday", "s1", day, "events"), 12);
    assert_int_equal(csm_testkit_counter(restarted, "allday", "s1", day, "out_of_order"), 0);
    other a = {restarted, 0}, b = {plain, 0};
    csm_testkit_foreach_counter(plain, same_in_other, &a);
    csm_testkit_foreach_counter(restarted, same_in_other, &b);
    assert_int_equal(a.checked, b.checked);
    csm_testkit_free(plain);
    csm_testkit_free(restarted);
}

/* ---- the engine and the record store directly ---- */

static csm_event_slot slot;

static void offer(csm_engine *e, const char *id, const char *customer, long long ts)
{
    char reason[256];
    const char *l = chat(id, customer, ts);
    assert_int_equal(csm_json_decode_line(l, strlen(l), &slot, reason, sizeof reason), 0);
    assert_int_equal(csm_engine_offer(e, &slot.ev, reason, sizeof reason), CSM_VERDICT_ACCEPTED);
}

/* Ops of the batch in @p section (NULL: all), of kind @p kind (-1: any). */
static size_t ops_in(const csm_ckpt_batch *b, const char *section, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        n += (!section || !strcmp(b->sections[b->ops[i].section], section)) &&
             (kind < 0 || b->ops[i].kind == kind);
    return n;
}

static void flush_to(csm_engine *e, csm_ckpt_batch *b, csm_ckpt_mem *m)
{
    char err[256];
    assert_int_equal(csm_engine_ckpt_build(e, b, err, sizeof err), 0);
    csm_ckpt_mem_apply(m, b);
    csm_engine_ckpt_committed(e);
}

static csm_engine *engine_of(world *w)
{
    char err[256];
    csm_engine *e = csm_engine_new(&w->cfg, w->chain, w->st, 0, err, sizeof err);
    assert_non_null(e);
    return e;
}

static csm_engine *load_from(world *w, csm_ckpt_mem *m, int want_rc, char *err, size_t errlen)
{
    csm_engine *e = engine_of(w);
    csm_ckpt_source src = csm_ckpt_mem_source(m);
    assert_int_equal(csm_engine_ckpt_load(e, &src, "offsets test", err, errlen), want_rc);
    return e;
}

static void flush_writes_only_what_changed(void **state)
{
    (void)state;
    world w;
    world_open(&w, "plugins: [tally]\n");
    csm_engine *e = engine_of(&w);
    csm_ckpt_batch b = {0};
    csm_ckpt_mem *m = csm_ckpt_mem_new();
    offer(e, "a", "c1", T0);
    offer(e, "b", "c2", T0 + S);
    offer(e, "c", "c3", T0 + 2 * S);
    csm_engine_advance_to(e, T0 + 10 * MIN); /* applies all three */
    flush_to(e, &b, m);
    assert_int_equal(ops_in(&b, "state:tally", CSM_CKPT_HSET), 3);
    assert_int_equal(ops_in(&b, "dedup", CSM_CKPT_HSET), 1);
    assert_int_equal(ops_in(&b, "", CSM_CKPT_HSET), 3); /* engine, event_time, plugins */

    offer(e, "d", "c1", T0 + 10 * MIN + S);
    csm_engine_advance_to(e, T0 + 11 * MIN);
    flush_to(e, &b, m);
    /* c1's record only; the three first ids are forgotten (10 min window):
     * their segment goes, the new id's is written. */
    assert_int_equal(ops_in(&b, "state:tally", -1), 1);
    assert_int_equal(ops_in(&b, "dedup", CSM_CKPT_HSET), 1);
    assert_int_equal(ops_in(&b, "dedup", CSM_CKPT_HDEL), 1);
    assert_int_equal(csm_ckpt_mem_count(m, "state:tally"), 3);
    assert_int_equal(csm_ckpt_mem_count(m, "dedup"), 1);

    /* An idle tick that moves only the clock writes the clock alone. */
    csm_engine_advance_to(e, T0 + 11 * MIN + 1);
    flush_to(e, &b, m);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.ops[0].field, "event_time");

    /* Nothing at all: nothing written. */
    flush_to(e, &b, m);
    assert_int_equal(b.n, 0);

    /* The stored state continues exactly: c1 was seen twice, so its next
     * event is a repeat; c2's is too. */
    char err[256];
    csm_engine *again = load_from(&w, m, 0, err, sizeof err);
    assert_int_equal(csm_engine_state_entries(again), 3);
    offer(again, "a", "c1", T0 + 11 * MIN); /* "a" was forgotten: accepted */
    offer(again, "d2", "c2", T0 + 11 * MIN);
    csm_engine_advance_to(again, T0 + 20 * MIN);
    csm_engine_free(again);
    csm_engine_free(e);
    csm_ckpt_batch_free(&b);
    csm_ckpt_mem_free(m);
    world_close(&w);
}

static void buffered_events_are_records(void **state)
{
    (void)state;
    world w;
    world_open(&w, "plugins: [tally]\n");
    csm_engine *e = engine_of(&w);
    csm_ckpt_batch b = {0};
    csm_ckpt_mem *m = csm_ckpt_mem_new();
    char err[256];
    /* Both wait for event time to pass them by the allowed lateness (5 s). */
    offer(e, "a", "c1", T0);
    offer(e, "b", "c2", T0 + S);
    flush_to(e, &b, m);
    assert_int_equal(ops_in(&b, "buffer", CSM_CKPT_HSET), 2);
    /* "a" is applied (its record goes), "c" arrives (its record comes),
     * "b" was written already. */
    offer(e, "c", "c3", T0 + 5 * S + 500);
    assert_int_equal(csm_engine_buffered(e), 2);
    flush_to(e, &b, m);
    assert_int_equal(ops_in(&b, "buffer", CSM_CKPT_HSET), 1);
    assert_int_equal(ops_in(&b, "buffer", CSM_CKPT_HDEL), 1);
    assert_int_equal(csm_ckpt_mem_count(m, "buffer"), 2);

    csm_engine *again = load_from(&w, m, 0, err, sizeof err);
    assert_int_equal(csm_engine_buffered(again), 2);
    assert_int_equal(csm_engine_state_entries(again), 1);
    csm_engine_advance_to(again, T0 + MIN);
    assert_int_equal(csm_engine_state_entries(again), 3);
    /* Applied after the restore: deleted at the next flush. */
    flush_to(again, &b, m);
    assert_int_equal(ops_in(&b, "buffer", CSM_CKPT_HDEL), 2);
    assert_int_equal(csm_ckpt_mem_count(m, "buffer"), 0);
    csm_engine_free(again);
    csm_engine_free(e);
    csm_ckpt_batch_free(&b);
    csm_ckpt_mem_free(m);
    world_close(&w);
}

static void plugins_are_matched_by_name(void **state)
{
    (void)state;
    world one, two, three;
    world_open(&one, "plugins: [tally]\n");
    world_open(&two, "plugins: [probe, tally]\n");
    world_open(&three, "plugins: [tally]\n");
    csm_ckpt_batch b = {0};
    csm_ckpt_mem *m = csm_ckpt_mem_new();
    char err[256];

    csm_engine *e = engine_of(&one);
    offer(e, "a", "c1", T0);
    offer(e, "b", "c2", T0 + S);
    csm_engine_advance_to(e, T0 + MIN);
    flush_to(e, &b, m);
    csm_engine_free(e);

    /* probe is new (and first in the chain): it starts empty; tally goes on. */
    e = load_from(&two, m, 0, err, sizeof err);
    assert_int_equal(csm_engine_state_entries(e), 2);
    offer(e, "c", "c1", T0 + 2 * MIN);
    csm_engine_advance_to(e, T0 + 3 * MIN);
    flush_to(e, &b, m);
    assert_int_equal(ops_in(&b, "state:probe", CSM_CKPT_HSET), 1); /* its snapshot */
    assert_int_equal(ops_in(&b, "state:tally", CSM_CKPT_HSET), 1);
    csm_engine_free(e);

    /* probe removed: its section is dropped at the next flush. */
    e = load_from(&three, m, 0, err, sizeof err);
    assert_int_equal(csm_engine_state_entries(e), 2);
    flush_to(e, &b, m);
    assert_int_equal(ops_in(&b, "state:probe", CSM_CKPT_DROP), 1);
    assert_int_equal(csm_ckpt_mem_count(m, "state:probe"), 0);
    assert_int_equal(csm_ckpt_mem_count(m, "state:tally"), 2);
    csm_engine_free(e);

    csm_ckpt_batch_free(&b);
    csm_ckpt_mem_free(m);
    world_close(&one);
    world_close(&two);
    world_close(&three);
}

static void newer_state_version_is_refused(void **state)
{
    (void)state;
    world newer, older;
    setenv("CSM_TALLY_STATE_VERSION", "2", 1);
    world_open(&newer, "plugins: [tally]\n");
    csm_ckpt_batch b = {0};
    csm_ckpt_mem *m = csm_ckpt_mem_new();
    csm_engine *e = engine_of(&newer);
    offer(e, "a", "c1", T0);
    csm_engine_advance_to(e, T0 + MIN);
    flush_to(e, &b, m);
    csm_engine_free(e);

    unsetenv("CSM_TALLY_STATE_VERSION");
    world_open(&older, "plugins: [tally]\n");
    char err[512];
    e = load_from(&older, m, -2, err, sizeof err);
    assert_non_null(strstr(err, "plugin 'tally' cannot read its state"));
    assert_non_null(strstr(err, "written with state version 2"));
    assert_non_null(strstr(err, "reads state version 1 and older"));
    csm_engine_free(e);
    csm_ckpt_batch_free(&b);
    csm_ckpt_mem_free(m);
    world_close(&newer);
    world_close(&older);
}

/* A record a plugin cannot read, or a truncated one, refuses the load and
 * names the plugin and the entry. */
static void corrupt_record_is_refused(void **state)
{
    (void)state;
    world w;
    world_open(&w, "plugins: [tally]\n");
    csm_ckpt_batch b = {0};
    csm_ckpt_mem *m = csm_ckpt_mem_new();
    csm_engine *e = engine_of(&w);
    offer(e, "a", "c1", T0);
    csm_engine_advance_to(e, T0 + MIN);
    flush_to(e, &b, m);
    csm_engine_free(e);

    static const char *const bad[] = {"", "\x05\0\0\0\0\0\0\0ab",
                                      "\xff\xff\xff\xff\xff\xff\xff\xff"};
    static const size_t len[] = {0, 10, 8};
    for (size_t i = 0; i < 3; i++) {
        csm_ckpt_batch_reset(&b);
        csm_ckpt_batch_hset(&b, csm_ckpt_batch_section(&b, "state:tally"), "42", bad[i], len[i]);
        csm_ckpt_mem_apply(m, &b);
        char err[512];
        e = load_from(&w, m, -2, err, sizeof err);
        assert_non_null(strstr(err, "plugin 'tally' record '42'"));
        csm_engine_free(e);
    }
    csm_ckpt_batch_free(&b);
    csm_ckpt_mem_free(m);
    world_close(&w);
}

/* Records whose checkpoint hash is gone (deleted by hand to start a
 * partition over) belong to no checkpoint: the engine starts empty, and
 * its first flush deletes them before writing its own, so the next load
 * does not mix them in. */
static void records_without_a_checkpoint_are_dropped(void **state)
{
    (void)state;
    world w;
    world_open(&w, "plugins: [tally]\n");
    csm_ckpt_batch b = {0};
    csm_ckpt_mem *m = csm_ckpt_mem_new();
    char err[512];
    csm_ckpt_batch_hset(&b, csm_ckpt_batch_section(&b, "state:tally"), "42", "stale", 5);
    csm_ckpt_batch_hset(&b, csm_ckpt_batch_section(&b, "buffer"), "7", "stale", 5);
    csm_ckpt_batch_hset(&b, csm_ckpt_batch_section(&b, "dedup"), "0", "stale", 5);
    csm_ckpt_mem_apply(m, &b);

    csm_engine *e = load_from(&w, m, 0, err, sizeof err);
    assert_int_equal(csm_engine_state_entries(e), 0);
    offer(e, "a", "c1", T0);
    csm_engine_advance_to(e, T0 + MIN);
    flush_to(e, &b, m);
    assert_int_equal(ops_in(&b, NULL, CSM_CKPT_DROP), 3); /* dedup, buffer, state:tally */
    assert_int_equal(csm_ckpt_mem_count(m, "state:tally"), 1);
    assert_int_equal(csm_ckpt_mem_count(m, "buffer"), 0);
    assert_int_equal(csm_ckpt_mem_count(m, "dedup"), 1);
    /* Once: the next flush drops nothing. */
    offer(e, "b", "c2", T0 + MIN);
    csm_engine_advance_to(e, T0 + 2 * MIN);
    flush_to(e, &b, m);
    assert_int_equal(ops_in(&b, NULL, CSM_CKPT_DROP), 0);
    csm_engine_free(e);

    e = load_from(&w, m, 0, err, sizeof err);
    assert_int_equal(csm_engine_state_entries(e), 2);
    csm_engine_free(e);
    csm_ckpt_batch_free(&b);
    csm_ckpt_mem_free(m);
    world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(restarts_equal_uninterrupted),
        cmocka_unit_test(flush_writes_only_what_changed),
        cmocka_unit_test(buffered_events_are_records),
        cmocka_unit_test(plugins_are_matched_by_name),
        cmocka_unit_test(newer_state_version_is_refused),
        cmocka_unit_test(corrupt_record_is_refused),
        cmocka_unit_test(records_without_a_checkpoint_are_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
