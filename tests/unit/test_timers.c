/* The position index (itab.c) and the timers built on it (timers.c):
 * every position found by its key after deletions moved others, an index
 * grown by a burst shrinks back; timers fire in (deadline, creation)
 * order, cancel only for their own plugin, list a key's timers newest
 * first, and give their arrays back once none is pending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "itab.h"
#include "timers.h"

/* Positions index the array keys[]; several keys share a hash. */
static uint64_t keys[20000];

static uint64_t key_hash(const void *ctx, uint32_t pos)
{
    (void)ctx;
    return keys[pos] / 3;
}

static int key_match(const void *ctx, uint32_t pos, const void *key)
{
    (void)ctx;
    return keys[pos] == *(const uint64_t *)key;
}

static int has(const csm_itab *t, uint64_t key)
{
    const uint32_t *slot = csm_itab_find(t, key / 3, key_match, &key);
    return slot && keys[*slot - 1] == key;
}

static void itab_find_delete_shrink(void **state)
{
    (void)state;
    csm_itab t;
    csm_itab_init(&t, key_hash, NULL);
    for (uint32_t i = 0; i < 10000; i++) {
        keys[i] = 7 * (uint64_t)i;
        csm_itab_add(&t, keys[i] / 3, i);
    }
    assert_int_equal(csm_itab_count(&t), 10000);
    assert_int_equal(t.mask + 1, 16384); /* grown at 3/4: 12 288 >= 10 000 */
    for (uint32_t i = 0; i < 10000; i += 2) {
        uint64_t k = keys[i];
        csm_itab_del(&t, csm_itab_find(&t, k / 3, key_match, &k));
    }
    for (uint32_t i = 0; i < 10000; i++)
        assert_int_equal(has(&t, keys[i]), (int)(i % 2));
    assert_false(has(&t, 1));
    /* Below 1/8 full it shrinks to a quarter: 16 384 -> 4 096 -> 1 024. */
    for (uint32_t i = 1; i < 10000; i += 2) {
        uint64_t k = keys[i];
        csm_itab_del(&t, csm_itab_find(&t, k / 3, key_match, &k));
    }
    assert_int_equal(csm_itab_count(&t), 0);
    assert_int_equal(t.mask + 1, 1024);
    csm_itab_free(&t);
}

static void fires_in_order(void **state)
{
    (void)state;
    csm_timers t;
    csm_timers_init(&t);
    uint64_t a = csm_timers_add(&t, 500, 0, 10, 1), b = csm_timers_add(&t, 100, 1, 20, 2),
             c = csm_timers_add(&t, 500, 0, 30, 3), d = csm_timers_add(&t, 50, 2, 40, 4);
    assert_int_equal(a, 1);
    assert_int_equal(d, 4);
    uint64_t key = 0;
    assert_int_equal(csm_timers_cancel(&t, d, 0, &key), -1); /* plugin 2's */
    assert_int_equal(csm_timers_cancel(&t, d, 2, &key), 0);
    assert_int_equal(key, 40);
    assert_int_equal(csm_timers_cancel(&t, d, 2, &key), -1); /* gone */
    csm_ts deadline;
    assert_int_equal(csm_timers_peek(&t, &deadline), 1);
    assert_int_equal(deadline, 100);
    /* Equal deadlines fire in creation order. */
    const uint64_t ids[] = {b, a, c}, keys_of[] = {20, 10, 30};
    for (int i = 0; i < 3; i++) {
        csm_timer_fired f;
        csm_timers_pop(&t, &f);
        assert_int_equal(f.id, ids[i]);
        assert_int_equal(f.key, keys_of[i]);
    }
    assert_int_equal(csm_timers_count(&t), 0);
    assert_int_equal(csm_timers_peek(&t, &deadline), 0);
    csm_timers_free(&t);
}

static void collect(void *arg, const csm_timer_saved *s)
{
    uint64_t *out = arg;
    out[++out[0]] = s->id;
}

static void lists_by_key(void **state)
{
    (void)state;
    csm_timers t;
    csm_timers_init(&t);
    uint64_t a = csm_timers_add(&t, 300, 0, 7, 1), b = csm_timers_add(&t, 200, 0, 7, 2),
             c = csm_timers_add(&t, 100, 1, 7, 3), d = csm_timers_add(&t, 400, 0, 7, 4);
    uint64_t got[8] = {0};
    csm_timers_foreach_of(&t, 0, 7, collect, got);
    assert_int_equal(got[0], 3); /* plugin 1's timer of key 7 is not listed */
    assert_int_equal(got[1], d);
    assert_int_equal(got[2], b);
    assert_int_equal(got[3], a);
    uint64_t key;
    assert_int_equal(csm_timers_cancel(&t, b, 0, &key), 0); /* from the middle */
    assert_int_equal(csm_timers_cancel(&t, d, 0, &key), 0); /* the newest */
    got[0] = 0;
    csm_timers_foreach_of(&t, 0, 7, collect, got);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], a);
    got[0] = 0;
    csm_timers_foreach_of(&t, 1, 7, collect, got);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], c);
    /* A restored timer keeps its id and creation order. */
    csm_timer_saved s = {.id = 90, .seq = 0, .deadline = 100, .tag = 9};
    csm_timers_restore_one(&t, &s, 0, 8);
    csm_timer_fired f;
    csm_timers_pop(&t, &f); /* before c: same deadline, earlier seq */
    assert_int_equal(f.id, 90);
    assert_int_equal(f.tag, 9);
    csm_timers_free(&t);
}

static void burst_gives_back(void **state)
{
    (void)state;
    csm_timers t;
    csm_timers_init(&t);
    for (uint64_t k = 0; k < 5000; k++)
        csm_timers_add(&t, (csm_ts)(5000 - k), 0, k, 1);
    assert_int_equal(t.cap_ent, 8192);
    csm_timer_fired f;
    for (uint64_t k = 0; k < 5000; k++) {
        csm_timers_pop(&t, &f);
        assert_int_equal(f.key, 4999 - k);
    }
    assert_int_equal(t.cap_ent, 0);
    assert_null(t.heap);
    assert_int_equal(csm_timers_add(&t, 1, 0, 1, 1), 5001); /* ids go on */
    csm_timers_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(itab_find_delete_shrink),
        cmocka_unit_test(fires_in_order),
        cmocka_unit_test(lists_by_key),
        cmocka_unit_test(burst_gives_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
