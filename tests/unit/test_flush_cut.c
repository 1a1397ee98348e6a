/* The double-buffered flush's cut (deltas.c csm_deltas_swap_pending and
 * csm_deltas_unfreeze; engine_state.c csm_engine_ckpt_cut, _uncut and
 * _committed): what the flush in flight covers is frozen, consuming goes
 * on into fresh tables, and the outcome settles exactly what was frozen.
 * Uses the tally test plugin (one record per customer, tally_events
 * counted once per event). */
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
#include "delta_view.h"
#include "engine.h"
#include "keys.h"

#include "../support/engine_world.h"

/* 2026-11-20T00:00:00+08:00, the default zone Asia/Shanghai. */
#define DAY0 1795104000000LL
#define T0 (DAY0 + 10 * 3600 * 1000LL)
#define S 1000LL
#define MIN (60 * S)

/* ---- the deltas' double buffer ---- */

typedef struct two_tables {
    csm_deltas *live, *frozen;
    csm_dkey key;
    uint32_t events, transfers;
} two_tables;

static void tables_open(two_tables *t)
{
    t->live = csm_deltas_new("P");
    t->frozen = csm_deltas_new_shadow(t->live);
    csm_intern *names = csm_deltas_names(t->live);
    t->key = (csm_dkey){CSM_KEY_ALLDAY, csm_intern_id(names, "s1"), 20777, CSM_INTERN_NONE};
    t->events = csm_intern_id(names, "events");
    t->transfers = csm_intern_id(names, "transfers");
}

static void tables_close(two_tables *t)
{
    csm_deltas_free(t->frozen);
    csm_deltas_free(t->live);
}

static int64_t count(const csm_deltas *d, const two_tables *t, uint32_t name)
{
    return csm_deltas_counter(d, &t->key, name, CSM_INTERN_NONE, -1);
}

static void swap_freezes_and_unfreeze_puts_back_first(void **state)
{
    (void)state;
    two_tables t;
    tables_open(&t);
    csm_dkey members = {CSM_KEY_SET, t.key.shop, 20777,
                        csm_intern_id(csm_deltas_names(t.live), "customers")};
    csm_deltas_hincr(t.live, &t.key, t.events, CSM_INTERN_NONE, -1, 3, 1796000000);
    csm_deltas_sadd_str(t.live, &members, "c1", 0);
    uint64_t before = csm_deltas_version(t.live);

    csm_deltas_swap_pending(t.live, t.frozen);
    assert_int_equal(csm_deltas_size(t.live), 0);
    assert_int_equal(csm_deltas_size(t.frozen), 2);
    assert_int_equal(count(t.frozen, &t, t.events), 3);
    assert_int_equal(csm_deltas_version(t.frozen), before);
    /* The frozen table reads its names through the live one's. */
    assert_string_equal(csm_deltas_member(t.frozen, csm_deltas_item(t.frozen, 1)->a), "c1");

    /* Counted while the flush is in flight. */
    csm_deltas_hincr(t.live, &t.key, t.transfers, CSM_INTERN_NONE, -1, 1, 0);
    csm_deltas_hincr(t.live, &t.key, t.events, CSM_INTERN_NONE, -1, 2, 0);
    assert_int_equal(count(t.live, &t, t.events), 2);

    /* The flush failed: 3 + 2 events, 1 transfer, the member, and the
     * frozen entries first, as one flush without the cut would send them. */
    csm_deltas_unfreeze(t.live, t.frozen);
    assert_int_equal(csm_deltas_size(t.frozen), 0);
    assert_int_equal(csm_deltas_size(t.live), 3);
    assert_int_equal(count(t.live, &t, t.events), 5);
    assert_int_equal(count(t.live, &t, t.transfers), 1);
    size_t nk;
    const csm_dkeyrec *keys = csm_deltas_keys(t.live, &nk);
    assert_int_equal(nk, 2);
    assert_int_equal(keys[0].key.kind, CSM_KEY_ALLDAY);
    assert_int_equal(keys[0].expire_at, 1796000000);
    assert_int_equal(csm_deltas_item(t.live, keys[0].first)->a, t.events);
    assert_int_equal(keys[1].key.kind, CSM_KEY_SET);
    assert_string_equal(csm_deltas_member(t.live, csm_deltas_item(t.live, keys[1].first)->a), "c1");
    tables_close(&t);
}

static void unfreeze_with_nothing_since_keeps_the_version(void **state)
{
    (void)state;
    two_tables t;
    tables_open(&t);
    csm_deltas_hincr(t.live, &t.key, t.events, CSM_INTERN_NONE, -1, 4, 0);
    uint64_t before = csm_deltas_version(t.live);
    csm_deltas_swap_pending(t.live, t.frozen);
    csm_deltas_unfreeze(t.live, t.frozen);
    /* What a lost reply's writer names is still what is pending. */
    assert_int_equal(csm_deltas_version(t.live), before);
    assert_int_equal(count(t.live, &t, t.events), 4);
    assert_int_equal(csm_deltas_size(t.frozen), 0);
    tables_close(&t);
}

/* ---- the engine's cut ---- */

static csm_event_slot slot;
static char line[1024];

static void offer(csm_engine *e, const char *id, const char *customer, long long ts)
{
    char reason[256];
    snprintf(line, sizeof line,
             "{\"stream\":\"chat\",\"event_id\":\"%s\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
             "\"customer_id\":\"%s\",\"ts\":%lld,\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\","
             "\"msg_kind\":\"TEXT\"}",
             id, customer, ts);
    assert_int_equal(csm_json_decode_line(line, strlen(line), &slot, reason, sizeof reason), 0);
    assert_int_equal(csm_engine_offer(e, &slot.ev, reason, sizeof reason), CSM_VERDICT_ACCEPTED);
}

static size_t ops_in(const csm_ckpt_batch *b, const char *section, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        n += !strcmp(b->sections[b->ops[i].section], section) &&
             (kind < 0 || b->ops[i].kind == kind);
    return n;
}

typedef struct bench {
    world w;
    csm_engine *e;
    csm_ckpt_batch b;
    csm_ckpt_mem *m;
    char allday[256];
} bench;

static void bench_open(bench *x)
{
    char err[256];
    world_open(&x->w, "plugins:\n  - name: tally\n    idle: 30m\n");
    x->e = csm_engine_new(&x->w.cfg, x->w.chain, x->w.st, 0, err, sizeof err);
    assert_non_null(x->e);
    memset(&x->b, 0, sizeof x->b);
    x->m = csm_ckpt_mem_new();
    assert_true(csm_key_block(x->allday, sizeof x->allday, x->w.cfg.prefix, "s1", "allday",
                              csm_shoptime_day(x->w.st, "s1", DAY0)) > 0);
}

static void bench_close(bench *x)
{
    csm_ckpt_batch_free(&x->b);
    csm_ckpt_mem_free(x->m);
    csm_engine_free(x->e);
    world_close(&x->w);
}

/* Build and cut, as the run does when a flush starts. */
static void cut(bench *x)
{
    char err[256];
    assert_int_equal(csm_engine_ckpt_build(x->e, &x->b, err, sizeof err), 0);
    csm_engine_ckpt_cut(x->e);
}

static int64_t tally_events(bench *x, csm_deltas *d)
{
    return csm_deltas_get(d, x->allday, "tally_events");
}

static void commit_forgets_only_what_the_cut_covered(void **state)
{
    (void)state;
    bench x;
    bench_open(&x);
    offer(x.e, "a", "c1", T0);
    offer(x.e, "b", "c2", T0 + S);
    csm_engine_advance_to(x.e, T0 + 5 * MIN); /* applies both */
    offer(x.e, "c", "c3", T0 + 5 * MIN + S);  /* arrives; waits in the buffer */
    cut(&x);
    assert_int_equal(ops_in(&x.b, "state:tally", CSM_CKPT_HSET), 2);
    assert_int_equal(ops_in(&x.b, "buffer", CSM_CKPT_HSET), 1);
    assert_int_equal(tally_events(&x, csm_engine_frozen_deltas(x.e)), 2);
    assert_int_equal(tally_events(&x, csm_engine_deltas(x.e)), 0);
    csm_ckpt_mem_apply(x.m, &x.b);

    /* While Redis works: c2 touched again, c3's buffered event applied,
     * c4 new. */
    offer(x.e, "d", "c2", T0 + 6 * MIN);
    offer(x.e, "e", "c4", T0 + 6 * MIN + S);
    csm_engine_advance_to(x.e, T0 + 10 * MIN);
    assert_int_equal(tally_events(&x, csm_engine_deltas(x.e)), 3);
    assert_int_equal(tally_events(&x, csm_engine_frozen_deltas(x.e)), 2);

    csm_engine_ckpt_committed(x.e);
    assert_int_equal(tally_events(&x, csm_engine_frozen_deltas(x.e)), 0);
    assert_int_equal(tally_events(&x, csm_engine_deltas(x.e)), 3);
    cut(&x);
    /* c2, c3, c4 (not c1: written, untouched since); c3's buffered
     * record, written by the first batch, goes now. */
    assert_int_equal(ops_in(&x.b, "state:tally", CSM_CKPT_HSET), 3);
    assert_int_equal(ops_in(&x.b, "buffer", CSM_CKPT_HDEL), 1);
    assert_int_equal(ops_in(&x.b, "buffer", CSM_CKPT_HSET), 0);
    csm_ckpt_mem_apply(x.m, &x.b);
    csm_engine_ckpt_committed(x.e);
    assert_int_equal(csm_ckpt_mem_count(x.m, "state:tally"), 4);
    assert_int_equal(csm_ckpt_mem_count(x.m, "buffer"), 0);
    bench_close(&x);
}

static void uncut_makes_everything_pending_again(void **state)
{
    (void)state;
    bench x;
    bench_open(&x);
    offer(x.e, "a", "c1", T0);
    csm_engine_advance_to(x.e, T0 + 5 * MIN);
    cut(&x);
    offer(x.e, "b", "c2", T0 + 6 * MIN);
    csm_engine_advance_to(x.e, T0 + 10 * MIN);
    /* The flush failed. */
    csm_engine_ckpt_uncut(x.e);
    assert_int_equal(tally_events(&x, csm_engine_deltas(x.e)), 2);
    assert_int_equal(tally_events(&x, csm_engine_frozen_deltas(x.e)), 0);
    cut(&x);
    assert_int_equal(ops_in(&x.b, "state:tally", CSM_CKPT_HSET), 2);
    /* The engine field and the event time as a first flush writes them. */
    assert_int_equal(ops_in(&x.b, "", CSM_CKPT_HSET), 3);
    csm_engine_ckpt_committed(x.e);

    /* Nothing happened between a cut and its failure: the epoch (part of
     * the writer a lost reply is recognised by) has not moved. */
    offer(x.e, "c", "c3", T0 + 11 * MIN);
    csm_engine_advance_to(x.e, T0 + 12 * MIN);
    uint64_t epoch = csm_engine_state_epoch(x.e);
    uint64_t version = csm_deltas_version(csm_engine_deltas(x.e));
    cut(&x);
    csm_engine_ckpt_uncut(x.e);
    assert_int_equal(csm_engine_state_epoch(x.e), epoch);
    assert_int_equal(csm_deltas_version(csm_engine_deltas(x.e)), version);
    bench_close(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(swap_freezes_and_unfreeze_puts_back_first),
        cmocka_unit_test(unfreeze_with_nothing_since_keeps_the_version),
        cmocka_unit_test(commit_forgets_only_what_the_cut_covered),
        cmocka_unit_test(uncut_makes_everything_pending_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
