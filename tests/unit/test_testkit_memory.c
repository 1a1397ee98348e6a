/* The test kit's memory measurements (csm_testkit_state_entries,
 * csm_testkit_snapshot_bytes, csm_testkit_discard_writes), as
 * tests/tools/state_bench.c uses them, on the session builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "csmetrics/testkit.h"

/* 2026-11-20T10:00:00+08:00 */
#define T0 (1795104000000LL + 10 * 3600 * 1000LL)
#define S 1000LL
#define H (3600 * 1000LL)

static char line[1024];

static const char *message(const char *id, const char *customer, long long ts)
{
    snprintf(line, sizeof line,
             "{\"stream\":\"chat\",\"event_id\":\"%s\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
             "\"customer_id\":\"%s\",\"ts\":%lld,\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\","
             "\"msg_kind\":\"TEXT\"}",
             id, customer, ts);
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

static void entries_and_snapshot_follow_the_state(void **state)
{
    (void)state;
    csm_testkit *tk = kit("plugins: [session]\n");
    assert_int_equal(csm_testkit_state_entries(tk), 0);
    size_t empty = csm_testkit_snapshot_bytes(tk);
    assert_true(empty > 0);

    /* Applied once event time is 5 s (allowed lateness) past them. */
    assert_int_equal(csm_testkit_feed(tk, message("a", "c1", T0)), CSM_TK_ACCEPTED);
    assert_int_equal(csm_testkit_feed(tk, message("b", "c2", T0 + S)), CSM_TK_ACCEPTED);
    assert_int_equal(csm_testkit_feed(tk, message("c", "c3", T0 + 10 * S)), CSM_TK_ACCEPTED);
    assert_int_equal(csm_testkit_state_entries(tk), 2); /* one record per customer */
    size_t two = csm_testkit_snapshot_bytes(tk);
    assert_true(two > empty);

    /* 49 h later the two first customers' sessions are closed and past the
     * 48 h a rating could reach them: the hourly sweep drops their records. */
    assert_int_equal(csm_testkit_feed(tk, message("d", "c4", T0 + 49 * H)), CSM_TK_ACCEPTED);
    assert_int_equal(csm_testkit_feed(tk, message("e", "c4", T0 + 49 * H + 10 * S)),
                     CSM_TK_ACCEPTED);
    assert_int_equal(csm_testkit_state_entries(tk), 1);
    assert_true(csm_testkit_snapshot_bytes(tk) < two);
    csm_testkit_free(tk);
}

static void discarded_writes_are_forgotten(void **state)
{
    (void)state;
    csm_testkit *tk = kit("plugins: [session]\n");
    csm_testkit_feed(tk, message("a", "c1", T0));
    csm_testkit_feed(tk, message("b", "c2", T0 + 10 * S));
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "sessions_started"), 1);
    csm_testkit_discard_writes(tk);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "sessions_started"), 0);
    assert_int_equal(csm_testkit_state_entries(tk), 1); /* c1's record stays (c2 is buffered) */
    csm_testkit_end(tk);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s1", "2026-11-20", "sessions_started"), 1);
    csm_testkit_free(tk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entries_and_snapshot_follow_the_state),
        cmocka_unit_test(discarded_writes_are_forgotten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
