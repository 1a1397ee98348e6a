/* The order figures' snapshot/restore and eviction under a fake host
 * (fake_host.h): order events and the session builder's HUMAN_REQUESTED
 * are built by hand. A run cut at any step by snapshot -> fresh instance
 * -> restore must log exactly what the uninterrupted run logs, and once
 * every timer has fired all state must be gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_host.h"

#define T0 1795104000000LL /* 2026-11-20T00:00:00+08:00 */
#define MIN(x) ((int64_t)(x)*60000LL)
#define HRS(x) ((int64_t)(x)*3600000LL)
#define DAYS(x) ((int64_t)(x)*86400000LL)
#define AT(h, m) (T0 + HRS(h) + MIN(m))

#define HR_AFTERSALE (-1) /* derived HUMAN_REQUESTED of an after-sale session */
#define HR_PRESALE (-2)   /* … of a pre-sale one */

typedef struct step {
    int type; /* csm_order_type, or HR_* */
    const char *customer;
    csm_ts ts;
    const char *order_id;
    const char *refund_id;
} step;

static const step script[] = {
    {CSM_ORDER_REFUND_REQUESTED, "c1", AT(10, 0), "o1", "r1"},
    {CSM_ORDER_PLATFORM_CONSULTED, "c2", AT(10, 5), "o2", NULL},
    {HR_AFTERSALE, "c2", AT(10, 10), NULL, NULL},
    {CSM_ORDER_PLATFORM_CONSULTED, "c2", AT(10, 20), "o2", NULL},
    {CSM_ORDER_PLATFORM_CONSULTED, "c3", AT(10, 30), "o3", NULL},
    {HR_PRESALE, "c4", AT(10, 40), NULL, NULL},
    {CSM_ORDER_REFUND_COMPLETED, "c1", AT(11, 0), "o1", "r1"},
    {CSM_ORDER_REFUND_REJECTED, "c1", AT(11, 10), "o1", "r1"},
    {CSM_ORDER_REFUND_COMPLETED, "c5", AT(11, 20), "o5", NULL},
    {CSM_ORDER_REFUND_REQUESTED, "c5", AT(12, 0), "o6", NULL},
    {CSM_ORDER_REFUND_REQUESTED, "c5", AT(12, 30), "o6", NULL},
    {CSM_ORDER_DISPUTE_OPENED, "c6", AT(13, 0), "o7", NULL},
    {CSM_ORDER_PLATFORM_CONSULTED, "c7", AT(23, 30), "o8", NULL},
    {CSM_ORDER_REFUND_REQUESTED, "c7", AT(24, 30), "o8", "r7"},
    {CSM_ORDER_REFUND_CANCELLED, "c5", AT(33, 0), "o6", NULL},
    {CSM_ORDER_PLATFORM_CONSULTED, "c1", T0 + DAYS(14) + HRS(12), "o1", NULL},
    {CSM_ORDER_PLATFORM_CONSULTED, "c2", T0 + DAYS(15) + HRS(12), "o2", NULL},
    {CSM_ORDER_COMPLAINT_INTERVENED, "c8", T0 + DAYS(15) + HRS(13), "o9", NULL},
};
#define N_STEPS (sizeof script / sizeof *script)

static int64_t config_value(const char *key)
{
    return !strcmp(key, "refund_keep") ? DAYS(2) : HRS(1);
}

static void apply(const step *s, uint64_t id)
{
    F.now = s->ts;
    if (s->type < 0) {
        csm_session v = {.struct_size = sizeof v,
                         .id = id,
                         .shop_id = "s1",
                         .customer_id = s->customer,
                         .platform = CSM_PLATFORM_DOUYIN,
                         .open_ts = s->ts,
                         .aftersale = s->type == HR_AFTERSALE,
                         .request_ts = s->ts,
                         .assign_ts = CSM_TS_NONE,
                         .last_customer_ts = s->ts,
                         .first_human_reply_ts = CSM_TS_NONE,
                         .close_ts = CSM_TS_NONE};
        csm_derived d = {.struct_size = sizeof d,
                         .type = CSM_SESSION_HUMAN_REQUESTED,
                         .name = "human_requested",
                         .ts = s->ts,
                         .session = &v};
        P->on_derived(ctx, &the_host, &d);
        return;
    }
    char event_id[16];
    snprintf(event_id, sizeof event_id, "e%llu", (unsigned long long)id);
    csm_event ev = {.struct_size = sizeof ev,
                    .stream = CSM_STREAM_ORDER,
                    .event_id = event_id,
                    .platform = CSM_PLATFORM_DOUYIN,
                    .shop_id = "s1",
                    .customer_id = s->customer,
                    .ts = s->ts,
                    .order = {.type = (csm_order_type)s->type,
                              .order_id = s->order_id,
                              .refund_id = s->refund_id}};
    P->on_event(ctx, &the_host, &ev);
}

/* Runs the script, cut before step @p cut (-1: never; N_STEPS: after the
 * last step); returns the log. */
static char *run(long cut)
{
    fh_reset();
    assert_int_equal(fh_new_instance(config_value), 0);
    for (size_t i = 0; i < N_STEPS; i++) {
        while (fh_fire_one(script[i].ts))
            ;
        if ((long)i == cut)
            assert_int_equal(fh_snapshot_restore(config_value), 0);
        apply(&script[i], i + 1);
    }
    if (cut == (long)N_STEPS)
        assert_int_equal(fh_snapshot_restore(config_value), 0);
    while (fh_fire_one(INT64_MAX))
        ;
    /* r7 is forgotten after refund_keep, every seeker after its 15 days,
     * every pending consult after its day: nothing is left, and the sweep
     * stopped re-arming. */
    assert_int_equal(P->state_entries(ctx, &the_host), 0);
    assert_int_equal(F.n_timers, 0);
    fh_drop_instance();
    char *log = strdup(F.log);
    fh_reset();
    return log;
}

static int setup(void **state)
{
    (void)state;
    return fh_load("orders");
}

static int teardown(void **state)
{
    (void)state;
    fh_unload();
    free(F.timers);
    free(F.log);
    return 0;
}

/* By hand (11-20 unless said):
 * c1 REFUND_REQUESTED 10:00 → seeker. c2 consults 10:05 (not a seeker
 * yet), asks for a human after-sale 10:10 → seeker, the 10:05 consult
 * counts then; its 10:20 consult counts at once. c3's consult never
 * counts; c4's pre-sale request makes no seeker. r1 COMPLETED 11:00 →
 * 1 refund, 3 600 000 ms; REJECTED 11:10 → ignored; c5's COMPLETED of o5
 * 11:20 with no request → ignored. c5 requests o6 12:00 → seeker, again
 * 12:30 (first counts). c6 DISPUTE_OPENED 13:00 → 1. c7 consults 23:30,
 * seeks 11-21 00:30 (another day: the consult never counts); r7 is never
 * finished. o6 CANCELLED 11-21 09:00 → 1 refund, 21 h = 75 600 000 ms.
 * c1 consults 12-04 12:00 = D+14 → counts; c2 12-05 12:00 = D+15 → not.
 * c8 COMPLAINT_INTERVENED 12-05 13:00 → 1. */
static void test_uninterrupted(void **state)
{
    (void)state;
    char *log = run(-1);
    const char *want = "set s1 aftersale_seekers c1 1795140000000 at 1795140000000\n"
                       "set s1 aftersale_seekers c2 1795140600000 at 1795140600000\n"
                       "count s1 0 escalations 0 1795140300000 1 at 1795140600000\n"
                       "count s1 0 escalations 0 1795141200000 1 at 1795141200000\n"
                       "count s1 0 refunds_finished 0 1795143600000 1 at 1795143600000\n"
                       "count s1 0 refund_ms_sum 0 1795143600000 3600000 at 1795143600000\n"
                       "stat ignored_finish_without_request\n"
                       "stat ignored_finish_without_request\n"
                       "set s1 aftersale_seekers c5 1795147200000 at 1795147200000\n"
                       "count s1 0 escalations 0 1795150800000 1 at 1795150800000\n"
                       "set s1 aftersale_seekers c7 1795192200000 at 1795192200000\n"
                       "count s1 0 refunds_finished 0 1795222800000 1 at 1795222800000\n"
                       "count s1 0 refund_ms_sum 0 1795222800000 75600000 at 1795222800000\n"
                       "count s1 0 escalations 0 1796356800000 1 at 1796356800000\n"
                       "count s1 0 escalations 0 1796446800000 1 at 1796446800000\n";
    assert_string_equal(log, want);
    free(log);
}

static void test_cut_anywhere(void **state)
{
    (void)state;
    char *want = run(-1);
    for (long cut = 0; cut <= (long)N_STEPS; cut++) {
        char *got = run(cut);
        if (strcmp(want, got))
            fail_msg("cut before step %ld:\n--- want\n%s--- got\n%s", cut, want, got);
        free(got);
    }
    free(want);
}

static void test_corrupt_snapshot(void **state)
{
    (void)state;
    fh_reset();
    assert_int_equal(fh_new_instance(config_value), 0);
    int64_t junk[4] = {1, 0, 5, 7};
    csm_reader r = {(const char *)junk, sizeof junk, 0};
    assert_int_not_equal(P->restore(ctx, &the_host, &r), 0);
    assert_int_equal(P->state_entries(ctx, &the_host), 0);
    int64_t version[1] = {99};
    csm_reader r2 = {(const char *)version, sizeof version, 0};
    assert_int_not_equal(P->restore(ctx, &the_host, &r2), 0);
    fh_drop_instance();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uninterrupted),
        cmocka_unit_test(test_cut_anywhere),
        cmocka_unit_test(test_corrupt_snapshot),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
