/* ptab.h, the open-addressing table the session builder and the SLA
 * plugin index their records with: random adds and deletes against a
 * plain array, with a hash that sends many ids to few home slots, so that
 * clusters wrap around the end of the table and deletions shift them
 * back. Every element must stay findable, deleted ones must not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../ptab.h"

typedef struct item {
    uint64_t id;
    int in;
} item;

#define N_ITEMS 3000

/* Ten home slots for every id: long runs of collisions. */
static uint64_t crowded(const void *e)
{
    return ((const item *)e)->id % 10 * 0x9e3779b97f4a7c15ULL;
}

static int match(const void *e, const void *k)
{
    return ((const item *)e)->id == *(const uint64_t *)k;
}

static void check(const csm_ptab *t, item *items, size_t n_in)
{
    assert_int_equal(t->n, n_in);
    for (size_t i = 0; i < N_ITEMS; i++) {
        item probe = {.id = items[i].id};
        void *found = csm_ptab_find(t, crowded(&probe), match, &items[i].id);
        if (items[i].in)
            assert_ptr_equal(found, &items[i]);
        else
            assert_null(found);
    }
}

static void test_random_adds_and_deletes(void **state)
{
    (void)state;
    static item items[N_ITEMS];
    for (size_t i = 0; i < N_ITEMS; i++)
        items[i] = (item){.id = i + 1};
    csm_ptab t;
    csm_ptab_init(&t, crowded);
    srand(7);
    size_t n_in = 0;
    for (int round = 0; round < 20000; round++) {
        item *it = &items[(size_t)rand() % N_ITEMS];
        if (it->in) {
            csm_ptab_del(&t, it);
            n_in--;
        } else {
            csm_ptab_add(&t, it);
            n_in++;
        }
        it->in = !it->in;
        if (round % 1000 == 0)
            check(&t, items, n_in);
    }
    check(&t, items, n_in);
    /* Emptied, every slot is free again. */
    for (size_t i = 0; i < N_ITEMS; i++)
        if (items[i].in)
            csm_ptab_del(&t, &items[i]);
    assert_int_equal(t.n, 0);
    for (size_t i = 0; i < csm_ptab_slots(&t); i++)
        assert_null(t.slot[i]);
    csm_ptab_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_adds_and_deletes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
