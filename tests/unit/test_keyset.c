/* The touched-keys set of incremental checkpoints (keyset.c): every key
 * once, key 0 included, and a table grown by a burst shrinks back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "keyset.h"

static int sum_keys(void *arg, uint64_t key)
{
    *(uint64_t *)arg += key;
    return 0;
}

static int stop_at_seven(void *arg, uint64_t key)
{
    (void)arg;
    return key == 7 ? 7 : 0;
}

static void each_key_once(void **state)
{
    (void)state;
    csm_keyset s = {0};
    for (uint64_t k = 0; k <= 1000; k++) {
        csm_keyset_add(&s, k);
        csm_keyset_add(&s, k); /* twice: counted once */
    }
    assert_int_equal(csm_keyset_count(&s), 1001);
    uint64_t sum = 0;
    assert_int_equal(csm_keyset_foreach(&s, sum_keys, &sum), 0);
    assert_int_equal(sum, 1000 * 1001 / 2);
    assert_int_equal(csm_keyset_foreach(&s, stop_at_seven, NULL), 7);
    /* Removing keeps every other key findable (backward shift). */
    for (uint64_t k = 0; k <= 1000; k += 2)
        csm_keyset_remove(&s, k);
    for (uint64_t k = 0; k <= 1000; k++)
        assert_int_equal(csm_keyset_contains(&s, k), (int)(k % 2));
    assert_int_equal(csm_keyset_count(&s), 500);
    csm_keyset_clear(&s);
    assert_int_equal(csm_keyset_count(&s), 0);
    sum = 0;
    csm_keyset_foreach(&s, sum_keys, &sum);
    assert_int_equal(sum, 0);
    csm_keyset_free(&s);
}

static void burst_shrinks(void **state)
{
    (void)state;
    csm_keyset s = {0};
    for (uint64_t k = 1; k <= 100000; k++)
        csm_keyset_add(&s, k * 0x9e3779b97f4a7c15ULL);
    size_t big = s.cap;
    assert_true(big >= 131072);
    csm_keyset_clear(&s); /* full: kept for the next burst */
    assert_int_equal(s.cap, big);
    for (uint64_t k = 1; k <= 10; k++)
        csm_keyset_add(&s, k);
    csm_keyset_clear(&s); /* ten keys in a big table: back to 64 slots */
    assert_int_equal(s.cap, 64);
    csm_keyset_add(&s, 3);
    assert_int_equal(csm_keyset_count(&s), 1);
    csm_keyset_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_key_once),
        cmocka_unit_test(burst_shrinks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
