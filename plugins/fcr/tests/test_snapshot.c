/* The FCR calculator's snapshot/restore and eviction under a fake host
 * (fake_host.h): derived events are built by hand as the session builder
 * publishes them (plugins/session/README.md). A run cut at any step by
 * snapshot -> fresh instance -> restore must log exactly what the
 * uninterrupted run logs, and once every timer has fired all state must
 * be gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_host.h"

#define T0 1795104000000LL /* 2026-11-20T00:00:00+08:00 */
#define MIN(x) ((int64_t)(x)*60000LL)
#define HRS(x) ((int64_t)(x)*3600000LL)
#define AT(h, m) (T0 + HRS(h) + MIN(m))

/* The sessions of the script: customer, after-sale, merchant-initiated. */
static const struct {
    const char *customer;
    int aftersale, merchant;
} sessions[] = {
    {"c1", 1, 0}, /* 1: served, R1 = 11-20 10:00 */
    {"c2", 1, 0}, /* 2: served, R2 = 11-20 10:05, assigned twice */
    {"c3", 1, 1}, /* 3: merchant-initiated: not served */
    {"c4", 0, 0}, /* 4: pre-sale: not served */
    {"c1", 1, 0}, /* 5: requests 11-21 10:00 (repeats 1), served */
    {"c2", 1, 0}, /* 6: requests R2 + 72 h + 1 ms: no repeat */
    {"c1", 1, 0}, /* 7: requests 11-24 10:00 = R5 + 72 h (repeats 5) */
    {"c5", 1, 0}, /* 8: served 11-21 11:00, never repeated: only the sweep ends it */
    {"c6", 1, 0}, /* 9: served 11-21 12:00, still open (and re-assigned) past R + 72 h */
};
#define N_SESS (sizeof sessions / sizeof *sessions)

typedef struct step {
    int sess; /* index into sessions */
    int type;
    csm_ts ts;
} step;

static const step script[] = {
    /* 11-20: sessions 1-4 */
    {0, CSM_SESSION_OPENED, AT(10, 0)},
    {0, CSM_SESSION_HUMAN_REQUESTED, AT(10, 0)},
    {0, CSM_SESSION_ASSIGNED, AT(10, 1)},
    {1, CSM_SESSION_OPENED, AT(10, 5)},
    {1, CSM_SESSION_HUMAN_REQUESTED, AT(10, 5)},
    {1, CSM_SESSION_ASSIGNED, AT(10, 6)},
    {1, CSM_SESSION_ASSIGNED, AT(10, 7)},
    {0, CSM_SESSION_CLOSED, AT(10, 10)},
    {2, CSM_SESSION_OPENED, AT(10, 10)},
    {2, CSM_SESSION_HUMAN_REQUESTED, AT(10, 11)},
    {2, CSM_SESSION_ASSIGNED, AT(10, 12)},
    {3, CSM_SESSION_OPENED, AT(10, 15)},
    {3, CSM_SESSION_HUMAN_REQUESTED, AT(10, 15)},
    {3, CSM_SESSION_ASSIGNED, AT(10, 16)},
    {1, CSM_SESSION_CLOSED, AT(10, 20)},
    {2, CSM_SESSION_CLOSED, AT(10, 30)},
    {3, CSM_SESSION_CLOSED, AT(10, 30)},
    /* 11-21: sessions 5, 8, 9 */
    {4, CSM_SESSION_OPENED, AT(34, 0)},
    {4, CSM_SESSION_HUMAN_REQUESTED, AT(34, 0)},
    {4, CSM_SESSION_ASSIGNED, AT(34, 2)},
    {4, CSM_SESSION_CLOSED, AT(34, 30)},
    {7, CSM_SESSION_OPENED, AT(35, 0)},
    {7, CSM_SESSION_HUMAN_REQUESTED, AT(35, 0)},
    {7, CSM_SESSION_ASSIGNED, AT(35, 1)},
    {7, CSM_SESSION_CLOSED, AT(35, 10)},
    {8, CSM_SESSION_OPENED, AT(36, 0)},
    {8, CSM_SESSION_HUMAN_REQUESTED, AT(36, 0)},
    {8, CSM_SESSION_ASSIGNED, AT(36, 1)},
    /* 11-23 and 11-24: sessions 6 and 7, then 9 again */
    {5, CSM_SESSION_OPENED, AT(82, 5) + 1},
    {5, CSM_SESSION_HUMAN_REQUESTED, AT(82, 5) + 1},
    {5, CSM_SESSION_CLOSED, AT(82, 20)},
    {6, CSM_SESSION_OPENED, AT(106, 0)},
    {6, CSM_SESSION_HUMAN_REQUESTED, AT(106, 0)},
    {6, CSM_SESSION_CLOSED, AT(106, 15)},
    {8, CSM_SESSION_ASSIGNED, AT(109, 0)},
    {8, CSM_SESSION_CLOSED, AT(109, 10)},
};
#define N_STEPS (sizeof script / sizeof *script)

static csm_session views[N_SESS];
static uint64_t last_id;

static void reset_views(void)
{
    last_id = 0;
    for (size_t i = 0; i < N_SESS; i++)
        views[i] = (csm_session){.struct_size = sizeof(csm_session),
                                 .shop_id = "s1",
                                 .customer_id = sessions[i].customer,
                                 .platform = CSM_PLATFORM_DOUYIN,
                                 .aftersale = sessions[i].aftersale,
                                 .merchant_initiated = sessions[i].merchant,
                                 .request_ts = CSM_TS_NONE,
                                 .assign_ts = CSM_TS_NONE,
                                 .first_human_reply_ts = CSM_TS_NONE,
                                 .close_ts = CSM_TS_NONE};
}

static void apply_view(const step *s)
{
    csm_session *v = &views[s->sess];
    switch (s->type) {
    case CSM_SESSION_OPENED:
        v->id = ++last_id; /* the session builder numbers sessions as they open */
        v->open_ts = v->last_customer_ts = s->ts;
        break;
    case CSM_SESSION_HUMAN_REQUESTED:
        if (v->request_ts == CSM_TS_NONE)
            v->request_ts = s->ts;
        break;
    case CSM_SESSION_ASSIGNED:
        if (v->request_ts != CSM_TS_NONE && v->assign_ts == CSM_TS_NONE)
            v->assign_ts = s->ts;
        break;
    case CSM_SESSION_CLOSED:
        v->close_ts = s->ts;
        break;
    default:
        break;
    }
}

static int64_t config_value(const char *key)
{
    (void)key;
    return HRS(1); /* sweep_interval */
}

/* Runs the script, cut before step @p cut (-1: never; N_STEPS: after the
 * last step); returns the log. */
static char *run(long cut)
{
    fh_reset();
    reset_views();
    assert_int_equal(fh_new_instance(config_value), 0);
    for (size_t i = 0; i < N_STEPS; i++) {
        const step *s = &script[i];
        while (fh_fire_one(s->ts))
            ;
        if ((long)i == cut)
            assert_int_equal(fh_snapshot_restore(config_value), 0);
        apply_view(s);
        F.now = s->ts;
        csm_derived d = {.struct_size = sizeof d,
                         .type = s->type,
                         .name = "x",
                         .ts = s->ts,
                         .session = &views[s->sess]};
        P->on_derived(ctx, &the_host, &d);
    }
    if (cut == (long)N_STEPS)
        assert_int_equal(fh_snapshot_restore(config_value), 0);
    while (fh_fire_one(INT64_MAX))
        ;
    /* Every window is over and every session closed: nothing is kept, and
     * the sweep stopped re-arming. */
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
    return fh_load("fcr");
}

static int teardown(void **state)
{
    (void)state;
    fh_unload();
    free(F.timers);
    free(F.log);
    return 0;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* By hand: served 1 (anchor R1 10:00) at 10:01 and 2 (R2 10:05) at 10:06,
 * once although assigned twice; 3 and 4 are not served. Session 5's
 * request 11-21 10:00 repeats 1; 5 is served at 10:02 (anchor 11-21
 * 10:00). 8 and 9 are served at 11:01 and 12:01 (anchors 11:00, 12:00).
 * Session 6 asks 1 ms after R2's window: nothing. Session 7 asks at 11-24
 * 10:00 = R5 + 72 h: repeats 5. Session 9's second ASSIGNED at R9 + 73 h
 * counts nothing. */
static void test_uninterrupted(void **state)
{
    (void)state;
    char *log = run(-1);
    const char *want = "count s1 0 fcr_served 0 1795140000000 1 at 1795140060000\n"
                       "count s1 0 fcr_served 0 1795140300000 1 at 1795140360000\n"
                       "count s1 0 fcr_repeated 0 1795140000000 1 at 1795226400000\n"
                       "count s1 0 fcr_served 0 1795226400000 1 at 1795226520000\n"
                       "count s1 0 fcr_served 0 1795230000000 1 at 1795230060000\n"
                       "count s1 0 fcr_served 0 1795233600000 1 at 1795233660000\n"
                       "count s1 0 fcr_repeated 0 1795226400000 1 at 1795485600000\n";
    assert_string_equal(log, want);
    assert_int_equal(count_lines(log), 7);
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
