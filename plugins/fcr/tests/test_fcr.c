/* The FCR calculator through the test kit, chain session → fcr. Every
 * expected figure is worked out by hand from metrics.md (fcr_served,
 * fcr_repeated, "Settled details" → After-sale, FCR, Opening, Assigned) in
 * the comment above its assertions. Times are shop-local (Asia/Shanghai,
 * the default; assessment window 08:00-23:00); T0 is
 * 2026-11-20T00:00:00+08:00. Unless said otherwise a customer has a PAID
 * at 12:00 on 11-19, so its sessions of 11-20 … 12-10 are after-sale. */
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
#define D20 "2026-11-20"
#define D21 "2026-11-21"
#define SEC(x) ((int64_t)(x)*1000LL)
#define MIN(x) ((int64_t)(x)*60000LL)
#define HRS(x) ((int64_t)(x)*3600000LL)
#define DAYS(x) ((int64_t)(x)*86400000LL)
#define AT(h, m, s) (T0 + HRS(h) + MIN(m) + SEC(s))

#define CHAIN "plugins:\n  - session\n  - fcr\n"

#define MSG_C "\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\",\"msg_kind\":\"TEXT\""
#define MSG_A(a)                                                                                   \
    "\"type\":\"MESSAGE\",\"sender\":\"AGENT\",\"msg_kind\":\"TEXT\",\"agent_id\":\"" a "\""
#define HUMAN_REQ "\"type\":\"HUMAN_REQUESTED\""
#define ASSIGN(a) "\"type\":\"ASSIGNED\",\"agent_id\":\"" a "\""
#define CLOSED "\"type\":\"SESSION_CLOSED\",\"reason\":\"AGENT\""

static long next_id;

static int feed(csm_testkit *tk, const char *stream, const char *shop, const char *cust, int64_t ts,
                const char *fields)
{
    char line[1024];
    snprintf(line, sizeof line,
             "{\"stream\":\"%s\",\"event_id\":\"f%ld\",\"platform\":\"DOUYIN\",\"shop_id\":\"%s\","
             "\"customer_id\":\"%s\",\"ts\":%lld,%s}",
             stream, ++next_id, shop, cust, (long long)ts, fields);
    return csm_testkit_feed(tk, line);
}

#define EVS(shop, cust, ts, fields)                                                                \
    assert_int_equal(feed(tk, "chat", shop, cust, ts, fields), CSM_TK_ACCEPTED)
#define EV(cust, ts, fields) EVS("s1", cust, ts, fields)
#define PAID_AT(shop, cust, ts)                                                                    \
    assert_int_equal(feed(tk, "order", shop, cust, ts, "\"type\":\"PAID\",\"order_id\":\"o1\""),   \
                     CSM_TK_ACCEPTED)
#define PAID(cust) PAID_AT("s1", cust, T0 - HRS(12))

/* A served session: request at t, assigned 1 min later, closed 10 min later. */
#define SERVED(cust, t)                                                                            \
    do {                                                                                           \
        EV(cust, (t), HUMAN_REQ);                                                                  \
        EV(cust, (t) + MIN(1), ASSIGN("a1"));                                                      \
        EV(cust, (t) + MIN(10), CLOSED);                                                           \
    } while (0)

static csm_testkit *start_with(const char *yaml)
{
    char err[512];
    csm_testkit *tk = csm_testkit_new(yaml, err, sizeof err);
    if (!tk)
        fail_msg("csm_testkit_new: %s", err);
    return tk;
}
static csm_testkit *start(void)
{
    return start_with(CHAIN);
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

/* c1 is served at 10:00 on 11-20 (R1), c2 at 11:00 (R2). c1 requests
 * again in a new session at exactly R1 + 72 h (11-23 10:00:00.000):
 * inside (R1, R1 + 72 h], repeated, anchored at R1 on 11-20. c2 at
 * R2 + 72 h + 1 ms: outside. The later sessions are not assigned, so not
 * served. */
static void test_window_edges(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    PAID("c1");
    PAID("c2");
    SERVED("c1", AT(10, 0, 0));
    SERVED("c2", AT(11, 0, 0));
    EV("c1", AT(10, 0, 0) + HRS(72), HUMAN_REQ);
    EV("c2", AT(11, 0, 0) + HRS(72) + 1, HUMAN_REQ);
    csm_testkit_end(tk);
    both(tk, D20, "fcr_served", 2);
    both(tk, D20, "fcr_repeated", 1);
    assert_int_equal(allday(tk, "2026-11-23", "fcr_served"), 0);
    assert_int_equal(allday(tk, "2026-11-23", "fcr_repeated"), 0);
    csm_testkit_free(tk);
}

/* Not served: c1 pre-sale (no PAID); c2 merchant-initiated (opened by an
 * agent message) though after-sale, requested and assigned; c3 requested,
 * never assigned; c4 assigned before its request only (not assigned);
 * c5 assigned with no request. Each requests again at 11:00 in a new
 * session: nothing was served, so nothing is repeated. */
static void test_not_served(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    PAID("c2");
    PAID("c3");
    PAID("c4");
    PAID("c5");
    SERVED("c1", AT(10, 0, 0));
    EV("c2", AT(10, 20, 0), MSG_A("a1"));
    SERVED("c2", AT(10, 21, 0));
    EV("c3", AT(10, 40, 0), HUMAN_REQ);
    EV("c3", AT(10, 50, 0), CLOSED);
    EV("c4", AT(10, 51, 0), MSG_C);
    EV("c4", AT(10, 51, 10), ASSIGN("a1"));
    EV("c4", AT(10, 51, 20), HUMAN_REQ);
    EV("c4", AT(10, 55, 0), CLOSED);
    EV("c5", AT(10, 56, 0), MSG_C);
    EV("c5", AT(10, 56, 10), ASSIGN("a1"));
    EV("c5", AT(10, 58, 0), CLOSED);
    const char *const cs[] = {"c1", "c2", "c3", "c4", "c5"};
    for (int i = 0; i < 5; i++)
        EV(cs[i], AT(11, 0, 0), HUMAN_REQ);
    csm_testkit_end(tk);
    both(tk, D20, "human_requested", 9);
    both(tk, D20, "fcr_served", 0);
    both(tk, D20, "fcr_repeated", 0);
    csm_testkit_free(tk);
}

/* c1's PAID is on 10-30 (D-21 for 11-20, D-22 for 11-21). Served on 11-20
 * at 10:00 (after-sale); the next session opens on 11-21 at 09:00, within
 * 72 h, but is pre-sale by its own opening day: not a repeat. */
static void test_later_session_presale(void **state)
{
    (void)state;
    csm_testkit *tk = start_with("pipeline:\n  max_event_age: 30d\n" CHAIN);
    PAID_AT("s1", "c1", T0 - DAYS(21) + HRS(12));
    SERVED("c1", AT(10, 0, 0));
    EV("c1", AT(10, 0, 0) + HRS(23), HUMAN_REQ);
    csm_testkit_end(tk);
    both(tk, D20, "fcr_served", 1);
    both(tk, D20, "fcr_repeated", 0);
    csm_testkit_free(tk);
}

/* Reading: fcr_served needs an assigned session, not `assigned`'s
 * same-day rule. c1 requests at 23:50 on 11-20 (outside the window),
 * assigned 00:04 on 11-21 (before the 00:05 idle close): served, all day
 * of 11-20 only; not in the shop's `assigned`. Its next session's request
 * at 10:00 on 11-22 (< 72 h) repeats it, also on 11-20 all day only. */
static void test_assigned_next_day(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    PAID("c1");
    EV("c1", AT(23, 50, 0), HUMAN_REQ);
    EV("c1", AT(24, 4, 0), ASSIGN("a1"));
    EV("c1", AT(48 + 10, 0, 0), HUMAN_REQ);
    csm_testkit_end(tk);
    assert_int_equal(allday(tk, D20, "assigned"), 0);
    assert_int_equal(allday(tk, D20, "fcr_served"), 1);
    assert_int_equal(board(tk, D20, "fcr_served"), 0);
    assert_int_equal(allday(tk, D20, "fcr_repeated"), 1);
    assert_int_equal(board(tk, D20, "fcr_repeated"), 0);
    csm_testkit_free(tk);
}

/* One served session (R = 11-20 10:00) assigned twice (a1, then a2):
 * served once. A second request inside the same session (10:05) is no
 * repeat. Requests in two later sessions (11-21 10:00 and 11-22 10:00,
 * neither assigned) both fall in the window: repeated counted once. */
static void test_counted_once(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    PAID("c1");
    EV("c1", AT(10, 0, 0), HUMAN_REQ);
    EV("c1", AT(10, 1, 0), ASSIGN("a1"));
    EV("c1", AT(10, 2, 0), ASSIGN("a2"));
    EV("c1", AT(10, 5, 0), HUMAN_REQ);
    EV("c1", AT(10, 10, 0), CLOSED);
    EV("c1", AT(34, 0, 0), HUMAN_REQ);
    EV("c1", AT(34, 10, 0), CLOSED);
    EV("c1", AT(58, 0, 0), HUMAN_REQ);
    csm_testkit_end(tk);
    both(tk, D20, "fcr_served", 1);
    both(tk, D20, "fcr_repeated", 1);
    assert_int_equal(allday(tk, D21, "fcr_repeated"), 0);
    csm_testkit_free(tk);
}

/* A chain: S1 served 11-20 10:00, S2 served 11-21 10:00 (repeats S1),
 * S3 requests 11-23 10:00 = R1 + 72 h = R2 + 48 h: repeats S2; S1 was
 * already counted. */
static void test_chain(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    PAID("c1");
    SERVED("c1", AT(10, 0, 0));
    SERVED("c1", AT(34, 0, 0));
    EV("c1", AT(82, 0, 0), HUMAN_REQ);
    csm_testkit_end(tk);
    both(tk, D20, "fcr_served", 1);
    both(tk, D20, "fcr_repeated", 1);
    both(tk, D21, "fcr_served", 1);
    both(tk, D21, "fcr_repeated", 1);
    csm_testkit_free(tk);
}

/* The repeat must be the same customer at the same shop: c1 served at s1;
 * c1 asks at s2 (after-sale there too) and c2 asks at s1 within 72 h:
 * no repeat at s1. c1's served s2 session is s2's. */
static void test_same_customer_same_shop(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    PAID("c1");
    PAID("c2");
    PAID_AT("s2", "c1", T0 - HRS(12));
    SERVED("c1", AT(10, 0, 0));
    EVS("s2", "c1", AT(11, 0, 0), HUMAN_REQ);
    EVS("s2", "c1", AT(11, 1, 0), ASSIGN("b1"));
    EV("c2", AT(12, 0, 0), HUMAN_REQ);
    csm_testkit_end(tk);
    both(tk, D20, "fcr_served", 1);
    both(tk, D20, "fcr_repeated", 0);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s2", D20, "fcr_served"), 1);
    assert_int_equal(csm_testkit_counter(tk, "allday", "s2", D20, "fcr_repeated"), 0);
    csm_testkit_free(tk);
}

/* Reading: the later session need only be after-sale and hold a
 * HUMAN_REQUESTED; a merchant-initiated one (opened by an agent message at
 * 11-21 09:59, the customer asks for a human at 10:00) repeats S1. */
static void test_later_merchant_initiated(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    PAID("c1");
    SERVED("c1", AT(10, 0, 0));
    EV("c1", AT(33, 59, 0), MSG_A("a1"));
    EV("c1", AT(34, 0, 0), HUMAN_REQ);
    csm_testkit_end(tk);
    both(tk, D20, "fcr_served", 1);
    both(tk, D20, "fcr_repeated", 1);
    csm_testkit_free(tk);
}

/* Anchored at the served session's request: 07:30 is outside the window,
 * so both figures are in the all-day block of 11-20 only, although the
 * assignment (07:31) and the repeat (09:00 on 11-21) are elsewhere. */
static void test_anchor_outside_window(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    PAID("c1");
    SERVED("c1", AT(7, 30, 0));
    EV("c1", AT(33, 0, 0), HUMAN_REQ);
    csm_testkit_end(tk);
    assert_int_equal(allday(tk, D20, "fcr_served"), 1);
    assert_int_equal(allday(tk, D20, "fcr_repeated"), 1);
    assert_int_equal(board(tk, D20, "fcr_served"), 0);
    assert_int_equal(board(tk, D20, "fcr_repeated"), 0);
    assert_int_equal(allday(tk, D21, "fcr_repeated"), 0);
    csm_testkit_free(tk);
}

/* A served session still open when its window ends (idle_close 4d,
 * max_open 5d, sweeps every 10 min) gets a second ASSIGNED at R + 80 h:
 * its entry was kept while open, so it is still counted once. */
static void test_open_past_window(void **state)
{
    (void)state;
    csm_testkit *tk = start_with("plugins:\n  - name: session\n    max_open: 5d\n"
                                 "    idle_close: 4d\n  - name: fcr\n    sweep_interval: 10m\n");
    PAID("c1");
    EV("c1", AT(10, 0, 0), HUMAN_REQ);
    EV("c1", AT(10, 1, 0), ASSIGN("a1"));
    EV("c1", AT(90, 0, 0), ASSIGN("a2"));
    EV("c1", AT(90, 5, 0), CLOSED);
    csm_testkit_end(tk);
    both(tk, D20, "fcr_served", 1);
    both(tk, D20, "fcr_repeated", 0);
    csm_testkit_free(tk);
}

/* sweep_interval must be positive; an unknown key is refused. */
static void test_config(void **state)
{
    (void)state;
    char err[512];
    csm_testkit *tk = csm_testkit_new(
        "plugins:\n  - session\n  - name: fcr\n    sweep_interval: 0\n", err, sizeof err);
    assert_null(tk);
    tk = csm_testkit_new("plugins:\n  - session\n  - name: fcr\n    window: 3d\n", err, sizeof err);
    assert_null(tk);
}

/* ---- restarts (csm_testkit_restart: checkpoint, kill -9, load) ---- */

/* Sweeps every 10 minutes, so that most cuts have one pending. */
#define SWEEPY "plugins:\n  - session\n  - name: fcr\n    sweep_interval: 10m\n"
#define CHAT_EV(cust, ts, fields)                                                                  \
    {                                                                                              \
        "chat", "s1", cust, ts, fields                                                             \
    }
#define PAID_EV(cust)                                                                              \
    {                                                                                              \
        "order", "s1", cust, T0 - HRS(12), "\"type\":\"PAID\",\"order_id\":\"o1\""                 \
    }

/* Over five days; c1, c2, c3 and c5 are after-sale, c4 pre-sale:
 *  c1 served 11-20 10:00 (R1: request, assigned 10:01, closed 10:10);
 *  c2 served 10:05 (R2), assigned twice, closed 10:20;
 *  c3 merchant-initiated (agent message 10:10), requested and assigned:
 *    not served; c4 (pre-sale) requested and assigned: not served;
 *  c1 requests again 11-21 10:00: repeats R1; that session is served (R5,
 *    assigned 10:02, closed 10:30);
 *  c5 served 11-21 07:30 (outside the 08:00-23:00 window);
 *  c2 requests at R2 + 72 h + 1 ms: no repeat;
 *  c1 requests at 11-24 10:00 = R5 + 72 h: repeats R5. */
static const rs_event fcr_script[] = {
    PAID_EV("c1"),
    PAID_EV("c2"),
    PAID_EV("c3"),
    PAID_EV("c5"),
    CHAT_EV("c1", AT(10, 0, 0), HUMAN_REQ),
    CHAT_EV("c1", AT(10, 1, 0), ASSIGN("a1")),
    CHAT_EV("c2", AT(10, 5, 0), HUMAN_REQ),
    CHAT_EV("c2", AT(10, 6, 0), ASSIGN("a1")),
    CHAT_EV("c2", AT(10, 7, 0), ASSIGN("a2")),
    CHAT_EV("c1", AT(10, 10, 0), CLOSED),
    CHAT_EV("c3", AT(10, 10, 0), MSG_A("a1")),
    CHAT_EV("c3", AT(10, 11, 0), HUMAN_REQ),
    CHAT_EV("c3", AT(10, 12, 0), ASSIGN("a1")),
    CHAT_EV("c4", AT(10, 15, 0), HUMAN_REQ),
    CHAT_EV("c4", AT(10, 16, 0), ASSIGN("a2")),
    CHAT_EV("c2", AT(10, 20, 0), CLOSED),
    CHAT_EV("c3", AT(10, 25, 0), CLOSED),
    CHAT_EV("c4", AT(10, 25, 0), CLOSED),
    CHAT_EV("c5", AT(31, 30, 0), HUMAN_REQ),
    CHAT_EV("c5", AT(31, 31, 0), ASSIGN("a1")),
    CHAT_EV("c5", AT(31, 40, 0), CLOSED),
    CHAT_EV("c1", AT(34, 0, 0), HUMAN_REQ),
    CHAT_EV("c1", AT(34, 2, 0), ASSIGN("a2")),
    CHAT_EV("c1", AT(34, 30, 0), CLOSED),
    CHAT_EV("c2", AT(82, 5, 0) + 1, HUMAN_REQ),
    CHAT_EV("c2", AT(82, 10, 0), CLOSED),
    CHAT_EV("c1", AT(106, 0, 0), HUMAN_REQ),
};
#define FCR_N (sizeof fcr_script / sizeof *fcr_script)

/* 11-20: served R1, R2 (board and all day 2), repeated R1 (1). 11-21:
 * served R5 (board) and c5 07:30 (all day only): board 1, all day 2;
 * repeated R5 (1). Nothing anchored on 11-23 or 11-24. */
static void check_fcr_script(csm_testkit *tk)
{
    both(tk, D20, "fcr_served", 2);
    both(tk, D20, "fcr_repeated", 1);
    assert_int_equal(board(tk, D21, "fcr_served"), 1);
    assert_int_equal(allday(tk, D21, "fcr_served"), 2);
    both(tk, D21, "fcr_repeated", 1);
    assert_int_equal(allday(tk, "2026-11-23", "fcr_served"), 0);
    assert_int_equal(allday(tk, "2026-11-23", "fcr_repeated"), 0);
    assert_int_equal(allday(tk, "2026-11-24", "fcr_served"), 0);
    assert_int_equal(allday(tk, "2026-11-24", "fcr_repeated"), 0);
}

static void test_restart_figures(void **state)
{
    (void)state;
    rs_check_figures(SWEEPY, fcr_script, FCR_N, check_fcr_script);
}

static void test_restart_anywhere(void **state)
{
    (void)state;
    rs_check_restarts(SWEEPY, fcr_script, FCR_N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_not_served),
        cmocka_unit_test(test_later_session_presale),
        cmocka_unit_test(test_assigned_next_day),
        cmocka_unit_test(test_counted_once),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_same_customer_same_shop),
        cmocka_unit_test(test_later_merchant_initiated),
        cmocka_unit_test(test_anchor_outside_window),
        cmocka_unit_test(test_open_past_window),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_restart_figures),
        cmocka_unit_test(test_restart_anywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
