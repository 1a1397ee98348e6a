/* The order figures through the test kit, chain session → orders. Every
 * expected figure is worked out by hand from metrics.md (refunds_finished,
 * refund_ms_sum, aftersale_seekers, escalations; "Settled details" →
 * After-sale, Seekers and escalations, Refunds) in the comment above its
 * assertions. Times are shop-local (Asia/Shanghai, the default; assessment
 * window 08:00-23:00); T0 is 2026-11-20T00:00:00+08:00. A customer with a
 * PAID at 12:00 on 11-19 has after-sale sessions from 11-20 on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "csmetrics/testkit.h"
#include "restart_script.h"

#define T0 1795104000000LL /* 2026-11-20T00:00:00+08:00 */
#define D19 "2026-11-19"
#define D20 "2026-11-20"
#define D21 "2026-11-21"
#define SEC(x) ((int64_t)(x)*1000LL)
#define MIN(x) ((int64_t)(x)*60000LL)
#define HRS(x) ((int64_t)(x)*3600000LL)
#define DAYS(x) ((int64_t)(x)*86400000LL)
#define AT(h, m, s) (T0 + HRS(h) + MIN(m) + SEC(s))

#define CHAIN "plugins:\n  - session\n  - orders\n"
/* Look-backs of two weeks need events further apart than the 7-day rule. */
#define LONG "pipeline:\n  max_event_age: 30d\n"

#define MSG_A(a)                                                                                   \
    "\"type\":\"MESSAGE\",\"sender\":\"AGENT\",\"msg_kind\":\"TEXT\",\"agent_id\":\"" a "\""
#define HUMAN_REQ "\"type\":\"HUMAN_REQUESTED\""
#define ORDER(type, order) "\"type\":\"" type "\",\"order_id\":\"" order "\""
#define REFUND(type, order, refund) ORDER(type, order) ",\"refund_id\":\"" refund "\""

static long next_id;

static int feed(csm_testkit *tk, const char *stream, const char *shop, const char *cust, int64_t ts,
                const char *fields)
{
    char line[1024];
    snprintf(line, sizeof line,
             "{\"stream\":\"%s\",\"event_id\":\"o%ld\",\"platform\":\"DOUYIN\",\"shop_id\":\"%s\","
             "\"customer_id\":\"%s\",\"ts\":%lld,%s}",
             stream, ++next_id, shop, cust, (long long)ts, fields);
    return csm_testkit_feed(tk, line);
}

#define CHAT(cust, ts, fields)                                                                     \
    assert_int_equal(feed(tk, "chat", "s1", cust, ts, fields), CSM_TK_ACCEPTED)
#define ORD_AT(shop, cust, ts, fields)                                                             \
    assert_int_equal(feed(tk, "order", shop, cust, ts, fields), CSM_TK_ACCEPTED)
#define ORD(cust, ts, fields) ORD_AT("s1", cust, ts, fields)
#define PAID(cust) ORD(cust, T0 - HRS(12), ORDER("PAID", "p1"))

static csm_testkit *start_with(const char *yaml)
{
    char err[512];
    csm_testkit *tk = csm_testkit_new(yaml, err, sizeof err);
    if (!tk)
        fail_msg("csm_testkit_new: %s", err);
    return tk;
}

static int64_t board(csm_testkit *tk, const char *day, const char *f)
{
    return csm_testkit_counter(tk, "board", "s1", day, f);
}
static int64_t allday(csm_testkit *tk, const char *day, const char *f)
{
    return csm_testkit_counter(tk, "allday", "s1", day, f);
}
static void both(csm_testkit *tk, const char *day, const char *f, int64_t n)
{
    assert_int_equal(board(tk, day, f), n);
    assert_int_equal(allday(tk, day, f), n);
}
static int64_t seekers(csm_testkit *tk, const char *day)
{
    return csm_testkit_set_size(tk, "s1", day, "aftersale_seekers");
}

/* ---- refunds ---- */

/* r1 requested 10:00, COMPLETED 12:30 on 11-20: 9 000 000 ms, on the board.
 * r2 requested 22:00 on 11-20, REJECTED 07:00 on 11-21: anchored at the
 * finish, 11-21 all day only (07:00 is outside the window), 32 400 000 ms.
 * r3 requested 10:00, CANCELLED 10:00:01: 1 000 ms. */
static void test_refund_anchor_and_kinds(void **state)
{
    (void)state;
    csm_testkit *tk = start_with(CHAIN);
    ORD("c1", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o1", "r1"));
    ORD("c3", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o3", "r3"));
    ORD("c3", AT(10, 0, 1), REFUND("REFUND_CANCELLED", "o3", "r3"));
    ORD("c1", AT(12, 30, 0), REFUND("REFUND_COMPLETED", "o1", "r1"));
    ORD("c2", AT(22, 0, 0), REFUND("REFUND_REQUESTED", "o2", "r2"));
    ORD("c2", AT(31, 0, 0), REFUND("REFUND_REJECTED", "o2", "r2"));
    csm_testkit_end(tk);
    both(tk, D20, "refunds_finished", 2);
    both(tk, D20, "refund_ms_sum", 9000000 + 1000);
    assert_int_equal(allday(tk, D21, "refunds_finished"), 1);
    assert_int_equal(allday(tk, D21, "refund_ms_sum"), 32400000);
    assert_int_equal(board(tk, D21, "refunds_finished"), 0);
    assert_int_equal(board(tk, D21, "refund_ms_sum"), 0);
    csm_testkit_free(tk);
}

/* r1: requested 10:00 and again 10:30 (the first request counts),
 * COMPLETED 11:00 (3 600 000 ms), then REJECTED 11:30: counted once.
 * r9: a REFUND_COMPLETED with no request: ignored. */
static void test_refund_counted_once(void **state)
{
    (void)state;
    csm_testkit *tk = start_with(CHAIN);
    ORD("c1", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o1", "r1"));
    ORD("c1", AT(10, 30, 0), REFUND("REFUND_REQUESTED", "o1", "r1"));
    ORD("c1", AT(11, 0, 0), REFUND("REFUND_COMPLETED", "o1", "r1"));
    ORD("c1", AT(11, 30, 0), REFUND("REFUND_REJECTED", "o1", "r1"));
    ORD("c9", AT(12, 0, 0), REFUND("REFUND_COMPLETED", "o9", "r9"));
    csm_testkit_end(tk);
    both(tk, D20, "refunds_finished", 1);
    both(tk, D20, "refund_ms_sum", 3600000);
    csm_testkit_free(tk);
}

/* Identity: refund_id, else order_id.
 * c1: requested as r1 (order o1) 10:00; a finish with order o1 and no
 *     refund_id (10:30) is another refund (o1), never requested: ignored;
 *     the finish of r1 at 11:00 counts 3 600 000.
 * c2: requested with order o2 only 10:00, finished with o2 only 10:20:
 *     1 200 000.
 * c3: two refunds r3a (10:00) and r3b (10:10) of one order o3, finished
 *     r3b 10:40 (1 800 000) and r3a 11:00 (3 600 000).
 * c1 at shop s2: a finish of r1 there is not s1's refund: ignored.
 * s1: 4 refunds, 10 200 000 ms. */
static void test_refund_identity(void **state)
{
    (void)state;
    csm_testkit *tk = start_with(CHAIN);
    ORD("c1", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o1", "r1"));
    ORD("c2", AT(10, 0, 0), ORDER("REFUND_REQUESTED", "o2"));
    ORD("c3", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o3", "r3a"));
    ORD("c3", AT(10, 10, 0), REFUND("REFUND_REQUESTED", "o3", "r3b"));
    ORD("c2", AT(10, 20, 0), ORDER("REFUND_COMPLETED", "o2"));
    ORD("c1", AT(10, 30, 0), ORDER("REFUND_COMPLETED", "o1"));
    ORD_AT("s2", "c1", AT(10, 35, 0), REFUND("REFUND_COMPLETED", "o1", "r1"));
    ORD("c3", AT(10, 40, 0), REFUND("REFUND_COMPLETED", "o3", "r3b"));
    ORD("c1", AT(11, 0, 0), REFUND("REFUND_COMPLETED", "o1", "r1"));
    ORD("c3", AT(11, 0, 0), REFUND("REFUND_REJECTED", "o3", "r3a"));
    csm_testkit_end(tk);
    both(tk, D20, "refunds_finished", 4);
    both(tk, D20, "refund_ms_sum", 10200000);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s2", D20, "refunds_finished"), 0);
    csm_testkit_free(tk);
}

/* refund_keep 1d. r1 requested 11-20 10:00, finished exactly 1 d later:
 * counted (86 400 000). r2 requested 10:00, finished 1 d + 1 ms later:
 * forgotten, ignored. r3 requested 10:00, requested again 11-21 11:00
 * (the first request was forgotten: this one starts it), finished 12:00:
 * 3 600 000. All on 11-21. The result does not depend on when sweeps
 * run: the same with a sweep every minute and once a week. */
static void run_refund_keep(const char *yaml)
{
    csm_testkit *tk = start_with(yaml);
    ORD("c1", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o1", "r1"));
    ORD("c2", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o2", "r2"));
    ORD("c3", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o3", "r3"));
    ORD("c1", AT(34, 0, 0), REFUND("REFUND_COMPLETED", "o1", "r1"));
    ORD("c2", AT(34, 0, 0) + 1, REFUND("REFUND_COMPLETED", "o2", "r2"));
    ORD("c3", AT(35, 0, 0), REFUND("REFUND_REQUESTED", "o3", "r3"));
    ORD("c3", AT(36, 0, 0), REFUND("REFUND_COMPLETED", "o3", "r3"));
    csm_testkit_end(tk);
    both(tk, D21, "refunds_finished", 2);
    both(tk, D21, "refund_ms_sum", 86400000 + 3600000);
    both(tk, D20, "refunds_finished", 0);
    csm_testkit_free(tk);
}

static void test_refund_keep(void **state)
{
    (void)state;
    run_refund_keep("plugins:\n  - session\n  - name: orders\n    refund_keep: 1d\n"
                    "    sweep_interval: 1m\n");
    run_refund_keep("plugins:\n  - session\n  - name: orders\n    refund_keep: 1d\n"
                    "    sweep_interval: 7d\n");
}

/* ---- seekers ---- */

/* 11-20: c1 after-sale HUMAN_REQUESTED 10:00 and REFUND_REQUESTED 11:00
 * (one member); c2 REFUND_REQUESTED only (no PAID needed); c3 pre-sale
 * HUMAN_REQUESTED (not a seeker); c5 after-sale merchant-initiated session
 * (agent message 10:00) with a HUMAN_REQUESTED 10:01 (every HUMAN_REQUESTED
 * of an after-sale session); c6 after-sale but never asks for a human.
 * Set of 11-20: c1, c2, c5 = 3. 11-21: c1 asks again (new session) and c4
 * after-sale asks: 2. No escalations. */
static void test_seekers(void **state)
{
    (void)state;
    csm_testkit *tk = start_with(CHAIN);
    PAID("c1");
    PAID("c4");
    PAID("c5");
    PAID("c6");
    CHAT("c1", AT(10, 0, 0), HUMAN_REQ);
    CHAT("c3", AT(10, 0, 0), HUMAN_REQ);
    CHAT("c5", AT(10, 0, 0), MSG_A("a1"));
    CHAT("c6", AT(10, 0, 0), "\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\",\"msg_kind\":\"TEXT\"");
    CHAT("c5", AT(10, 1, 0), HUMAN_REQ);
    ORD("c1", AT(11, 0, 0), REFUND("REFUND_REQUESTED", "o1", "r1"));
    ORD("c2", AT(12, 0, 0), REFUND("REFUND_REQUESTED", "o2", "r2"));
    CHAT("c1", AT(34, 0, 0), HUMAN_REQ);
    CHAT("c4", AT(35, 0, 0), HUMAN_REQ);
    csm_testkit_end(tk);
    assert_int_equal(seekers(tk, D20), 3);
    assert_int_equal(seekers(tk, D21), 2);
    assert_int_equal(allday(tk, D20, "escalations"), 0);
    csm_testkit_free(tk);
}

/* ---- escalations ---- */

/* DISPUTE_OPENED and COMPLAINT_INTERVENED count whoever the customer is:
 * 10:00 and 11:00 on the board, 07:00 all day only. */
static void test_disputes_complaints(void **state)
{
    (void)state;
    csm_testkit *tk = start_with(CHAIN);
    ORD("c1", AT(7, 0, 0), ORDER("DISPUTE_OPENED", "o1"));
    ORD("c2", AT(10, 0, 0), ORDER("COMPLAINT_INTERVENED", "o2"));
    ORD("c2", AT(11, 0, 0), ORDER("DISPUTE_OPENED", "o2"));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "escalations"), 2);
    assert_int_equal(allday(tk, D20, "escalations"), 3);
    assert_int_equal(seekers(tk, D20), 0);
    csm_testkit_free(tk);
}

/* Seekers on D = 11-20 (REFUND_REQUESTED 10:00): c1 consults on
 * D+14 = 12-04 at 23:59:59 (counts, all day only: outside the window),
 * c2 on D+15 = 12-05 at 00:00 (does not). c1 also consults on D at 12:00
 * (counts, board). c8 is a seeker at shop s2 only: its consult at s1
 * does not count. */
static void test_consult_lookback(void **state)
{
    (void)state;
    csm_testkit *tk = start_with(LONG CHAIN);
    ORD("c1", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o1", "r1"));
    ORD("c2", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o2", "r2"));
    ORD_AT("s2", "c8", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o8", "r8"));
    ORD("c1", AT(12, 0, 0), ORDER("PLATFORM_CONSULTED", "o1"));
    ORD("c8", AT(12, 0, 0), ORDER("PLATFORM_CONSULTED", "o8"));
    ORD("c1", T0 + DAYS(15) - SEC(1), ORDER("PLATFORM_CONSULTED", "o1"));
    ORD("c2", T0 + DAYS(15), ORDER("PLATFORM_CONSULTED", "o2"));
    csm_testkit_end(tk);
    both(tk, D20, "escalations", 1);
    assert_int_equal(allday(tk, "2026-12-04", "escalations"), 1);
    assert_int_equal(board(tk, "2026-12-04", "escalations"), 0);
    assert_int_equal(allday(tk, "2026-12-05", "escalations"), 0);
    csm_testkit_free(tk);
}

/* Consults before the seeking on the same day D count, when the seeking
 * comes, anchored at their own time:
 * c3 consults 08:30 and 09:00, asks for a human (after-sale) at 10:00: 2
 *    on the board;
 * c4 consults 07:00, REFUND_REQUESTED 15:00: 1, all day only;
 * c5 consults 11-19 20:00, seeks 11-20 10:00: not (its day had no seeking);
 * c6 consults 10:00 and never seeks: not;
 * c7 consults 23:00, seeks 11-21 00:30: not;
 * c9 consults 10:00 and 11:00 after a pre-sale request at 09:00: not. */
static void test_consult_before_seeking(void **state)
{
    (void)state;
    csm_testkit *tk = start_with(CHAIN);
    PAID("c3");
    PAID("c7");
    ORD("c5", AT(-4, 0, 0), ORDER("PLATFORM_CONSULTED", "o5"));
    ORD("c4", AT(7, 0, 0), ORDER("PLATFORM_CONSULTED", "o4"));
    ORD("c3", AT(8, 30, 0), ORDER("PLATFORM_CONSULTED", "o3"));
    ORD("c3", AT(9, 0, 0), ORDER("PLATFORM_CONSULTED", "o3"));
    CHAT("c9", AT(9, 0, 0), HUMAN_REQ);
    CHAT("c3", AT(10, 0, 0), HUMAN_REQ);
    ORD("c5", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o5", "r5"));
    ORD("c6", AT(10, 0, 0), ORDER("PLATFORM_CONSULTED", "o6"));
    ORD("c9", AT(10, 0, 0), ORDER("PLATFORM_CONSULTED", "o9"));
    ORD("c9", AT(11, 0, 0), ORDER("PLATFORM_CONSULTED", "o9"));
    ORD("c4", AT(15, 0, 0), REFUND("REFUND_REQUESTED", "o4", "r4"));
    ORD("c7", AT(23, 0, 0), ORDER("PLATFORM_CONSULTED", "o7"));
    CHAT("c7", AT(24, 30, 0), HUMAN_REQ);
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "escalations"), 2);
    assert_int_equal(allday(tk, D20, "escalations"), 3);
    assert_int_equal(allday(tk, D19, "escalations"), 0);
    assert_int_equal(allday(tk, D21, "escalations"), 0);
    assert_int_equal(seekers(tk, D20), 3); /* c3, c4, c5 */
    assert_int_equal(seekers(tk, D21), 1); /* c7 */
    csm_testkit_free(tk);
}

/* refund_keep and sweep_interval must be positive; unknown keys refused. */
static void test_config(void **state)
{
    (void)state;
    char err[512];
    assert_null(csm_testkit_new("plugins:\n  - session\n  - name: orders\n    refund_keep: 0\n",
                                err, sizeof err));
    assert_null(csm_testkit_new("plugins:\n  - session\n  - name: orders\n    sweep_interval: 0\n",
                                err, sizeof err));
    assert_null(csm_testkit_new("plugins:\n  - session\n  - name: orders\n    lookback: 3d\n", err,
                                sizeof err));
}

/* ---- restarts (csm_testkit_restart: checkpoint, kill -9, load) ---- */

#define KEEP2D LONG "plugins:\n  - session\n  - name: orders\n    refund_keep: 2d\n"
#define ORD_EV(cust, ts, fields)                                                                   \
    {                                                                                              \
        "order", "s1", cust, ts, fields                                                            \
    }
#define CHAT_EV(cust, ts, fields)                                                                  \
    {                                                                                              \
        "chat", "s1", cust, ts, fields                                                             \
    }

/* Over 16 days; c2 is after-sale by a PAID of 11-19:
 *  c1 requests refund r1 10:00 (seeker), COMPLETED 11:00 (3 600 000 ms),
 *    REJECTED 11:10 (already finished: ignored);
 *  c2 consults 10:05, asks for a human in an after-sale session 10:10
 *    (seeker: the consult counts then), consults again 10:20 (counts);
 *  c3 consults 10:30 and never seeks; c4 asks for a human pre-sale;
 *  c5: o5 COMPLETED 11:20 with no request (ignored); o6 requested 12:00
 *    and 12:30 (the first counts), CANCELLED 11-21 09:00 (75 600 000 ms);
 *  c6 opens a dispute 13:00;
 *  c7 consults 23:30, requests refund r7 on 11-21 00:30 (seeker of 11-21:
 *    the consult of 11-20 does not count); r7 never finishes (forgotten
 *    after refund_keep 2d);
 *  c1 consults 12-04 12:00 = D20 + 14 (counts); c2 12-05 12:00 = D20 + 15
 *    (does not); c8's complaint 12-05 13:00 counts. */
static const rs_event orders_script[] = {
    ORD_EV("c2", T0 - HRS(12), ORDER("PAID", "p2")),
    ORD_EV("c1", AT(10, 0, 0), REFUND("REFUND_REQUESTED", "o1", "r1")),
    ORD_EV("c2", AT(10, 5, 0), ORDER("PLATFORM_CONSULTED", "o2")),
    CHAT_EV("c2", AT(10, 10, 0), HUMAN_REQ),
    ORD_EV("c2", AT(10, 20, 0), ORDER("PLATFORM_CONSULTED", "o2")),
    ORD_EV("c3", AT(10, 30, 0), ORDER("PLATFORM_CONSULTED", "o3")),
    CHAT_EV("c4", AT(10, 40, 0), HUMAN_REQ),
    ORD_EV("c1", AT(11, 0, 0), REFUND("REFUND_COMPLETED", "o1", "r1")),
    ORD_EV("c1", AT(11, 10, 0), REFUND("REFUND_REJECTED", "o1", "r1")),
    ORD_EV("c5", AT(11, 20, 0), ORDER("REFUND_COMPLETED", "o5")),
    ORD_EV("c5", AT(12, 0, 0), ORDER("REFUND_REQUESTED", "o6")),
    ORD_EV("c5", AT(12, 30, 0), ORDER("REFUND_REQUESTED", "o6")),
    ORD_EV("c6", AT(13, 0, 0), ORDER("DISPUTE_OPENED", "o7")),
    ORD_EV("c7", AT(23, 30, 0), ORDER("PLATFORM_CONSULTED", "o8")),
    ORD_EV("c7", AT(24, 30, 0), REFUND("REFUND_REQUESTED", "o8", "r7")),
    ORD_EV("c5", AT(33, 0, 0), ORDER("REFUND_CANCELLED", "o6")),
    ORD_EV("c1", T0 + DAYS(14) + HRS(12), ORDER("PLATFORM_CONSULTED", "o1")),
    ORD_EV("c2", T0 + DAYS(15) + HRS(12), ORDER("PLATFORM_CONSULTED", "o2")),
    ORD_EV("c8", T0 + DAYS(15) + HRS(13), ORDER("COMPLAINT_INTERVENED", "o9")),
};
#define ORDERS_N (sizeof orders_script / sizeof *orders_script)

/* 11-20: seekers c1, c2, c5; escalations 10:05, 10:20, 13:00; one refund
 * finished (1 h). 11-21: seeker c7; c5's refund finished at 09:00 after
 * 21 h. 12-04 and 12-05: one escalation each. All in the window. */
static void check_orders_script(csm_testkit *tk)
{
    assert_int_equal(seekers(tk, D20), 3);
    both(tk, D20, "escalations", 3);
    both(tk, D20, "refunds_finished", 1);
    both(tk, D20, "refund_ms_sum", 3600000);
    assert_int_equal(seekers(tk, D21), 1);
    both(tk, D21, "escalations", 0);
    both(tk, D21, "refunds_finished", 1);
    both(tk, D21, "refund_ms_sum", 75600000);
    both(tk, "2026-12-04", "escalations", 1);
    both(tk, "2026-12-05", "escalations", 1);
    assert_int_equal(seekers(tk, "2026-12-04"), 0);
}

static void test_restart_figures(void **state)
{
    (void)state;
    rs_check_figures(KEEP2D, orders_script, ORDERS_N, check_orders_script);
}

static void test_restart_anywhere(void **state)
{
    (void)state;
    rs_check_restarts(KEEP2D, orders_script, ORDERS_N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refund_anchor_and_kinds),
        cmocka_unit_test(test_refund_counted_once),
        cmocka_unit_test(test_refund_identity),
        cmocka_unit_test(test_refund_keep),
        cmocka_unit_test(test_seekers),
        cmocka_unit_test(test_disputes_complaints),
        cmocka_unit_test(test_consult_lookback),
        cmocka_unit_test(test_consult_before_seeking),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_restart_figures),
        cmocka_unit_test(test_restart_anywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
