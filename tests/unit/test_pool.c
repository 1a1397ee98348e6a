/* The block pool (pool.c) and the reorder buffer stored in it
 * (reorder.c): blocks by 64-byte class, reused last-freed first, chunks
 * that double, and every chunk but the first unmapped once nothing is in
 * use; events come out in (ts, arrival) order with their strings intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pool.h"
#include "reorder.h"

static void classes_and_reuse(void **state)
{
    (void)state;
    csm_pool p;
    csm_pool_init(&p);
    char *a = csm_pool_alloc(&p, 100), *b = csm_pool_alloc(&p, 100);
    /* 100 bytes is the 128-byte class; blocks are 16-aligned. */
    assert_int_equal(b - a, 128);
    assert_int_equal((uintptr_t)a % 16, 0);
    char *c = csm_pool_alloc(&p, 64), *d = csm_pool_alloc(&p, 65);
    assert_int_equal(c - b, 128);
    assert_int_equal(d - c, 64);
    assert_int_equal(p.live, 4);
    csm_pool_free(&p, a, 100);
    /* Same class: the freed block; another class: fresh memory. */
    assert_ptr_equal(csm_pool_alloc(&p, 120), a);
    assert_ptr_equal(csm_pool_alloc(&p, 1), d + 128);
    assert_int_equal(p.mapped, 64 << 10);
    csm_pool_destroy(&p);
    assert_int_equal(p.mapped, 0);
}

static void empty_pool_unmaps(void **state)
{
    (void)state;
    csm_pool p;
    csm_pool_init(&p);
    char *blocks[40];
    /* A 64 KiB chunk holds 15 blocks of 4 KiB after its header, the next
     * chunk (128 KiB) 31 more. */
    for (int i = 0; i < 40; i++)
        blocks[i] = csm_pool_alloc(&p, 4096);
    assert_int_equal(p.mapped, (64 + 128) << 10);
    assert_int_equal(blocks[14] - blocks[0], 14 * 4096);
    for (int i = 0; i < 39; i++)
        csm_pool_free(&p, blocks[i], 4096);
    assert_int_equal(p.mapped, (64 + 128) << 10); /* one block still in use */
    csm_pool_free(&p, blocks[39], 4096);
    assert_int_equal(p.mapped, 64 << 10);
    assert_int_equal(p.live, 0);
    /* The kept chunk starts over from its first block. */
    assert_ptr_equal(csm_pool_alloc(&p, 4096), blocks[0]);
    csm_pool_destroy(&p);
}

static csm_event chat(const char *id, csm_ts ts, const char *customer)
{
    return (csm_event){.struct_size = sizeof(csm_event),
                       .stream = CSM_STREAM_CHAT,
                       .event_id = id,
                       .shop_id = "shop1",
                       .customer_id = customer,
                       .ts = ts};
}

static void reorder_order_and_strings(void **state)
{
    (void)state;
    csm_reorder r;
    csm_reorder_init(&r);
    csm_event e1 = chat("e1", 3000, "c1"), e2 = chat("e2", 1000, "c2"), e3 = chat("e3", 1000, "c3");
    e3.chat.intent = "refund";
    assert_int_equal(csm_reorder_push(&r, 0, &e1), 0);
    assert_int_equal(csm_reorder_push(&r, 1, &e2), 0);
    assert_int_equal(csm_reorder_push(&r, 2, &e3), 0);
    assert_int_equal(csm_reorder_count(&r), 3);
    /* "e3\0shop1\0c3\0refund\0": 3 + 6 + 3 + 7 bytes after the header. */
    const char *want[] = {"e2", "e3", "e1"};
    for (int i = 0; i < 3; i++) {
        csm_reorder_item *it = csm_reorder_pop(&r);
        assert_string_equal(it->ev.event_id, want[i]);
        assert_string_equal(it->ev.shop_id, "shop1");
        if (i == 1) {
            assert_int_equal(it->size, offsetof(csm_reorder_item, str) + 19);
            assert_string_equal(it->ev.chat.intent, "refund");
            assert_ptr_equal(it->ev.chat.intent, it->str + 12);
        } else {
            assert_null(it->ev.chat.intent);
        }
        csm_reorder_release(&r, it);
    }
    assert_null(csm_reorder_pop(&r));
    csm_reorder_free(&r);
}

static void reorder_refuses_large_event(void **state)
{
    (void)state;
    csm_reorder r;
    csm_reorder_init(&r);
    /* 2 041 bytes of reason + "e\0" + "shop1\0" + "c\0" = 2 051 > 2 048. */
    static char reason[2041];
    memset(reason, 'x', 2040);
    csm_event e = chat("e", 1, "c");
    e.chat.reason = reason;
    assert_int_equal(csm_reorder_push(&r, 0, &e), -1);
    assert_int_equal(csm_reorder_count(&r), 0);
    reason[2037] = 0; /* 2 038 + 10 = 2 048: fits */
    assert_int_equal(csm_reorder_push(&r, 0, &e), 0);
    csm_reorder_item *it = csm_reorder_pop(&r);
    assert_int_equal(strlen(it->ev.chat.reason), 2037);
    csm_reorder_release(&r, it);
    csm_reorder_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classes_and_reuse),
        cmocka_unit_test(empty_pool_unmaps),
        cmocka_unit_test(reorder_order_and_strings),
        cmocka_unit_test(reorder_refuses_large_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
