/* The satisfaction calculator through the test kit, chain session →
 * satisfaction. Every expected figure is worked out by hand from
 * metrics.md (invited/rated/rated_* rows, "Ratings", "Per-agent figures",
 * "Intents", "Alerts", "Settled details") in the comment above its
 * assertions. Times are shop-local (Asia/Shanghai, the default; window
 * 08:00-23:00); T0 is 2026-11-20T00:00:00+08:00. Events are fed in ts
 * order across customers (the allowed lateness is 5 s). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csmetrics/testkit.h"
#include "restart_script.h"

#define T0 1795104000000LL /* 2026-11-20T00:00:00+08:00 */
#define D20 "2026-11-20"
#define D21 "2026-11-21"
#define D22 "2026-11-22"
#define D24 "2026-11-24"
#define SEC(x) ((int64_t)(x)*1000LL)
#define MIN(x) ((int64_t)(x)*60000LL)
#define HRS(x) ((int64_t)(x)*3600000LL)
#define DAYS(x) (HRS(24) * (x))
#define AT(h, m, s) (T0 + HRS(h) + MIN(m) + SEC(s))

#define CHAIN "plugins:\n  - session\n  - satisfaction\n"

#define MSG_C "\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\",\"msg_kind\":\"TEXT\""
#define MSG_CI(intent) MSG_C ",\"intent\":\"" intent "\""
#define MSG_A(a)                                                                                   \
    "\"type\":\"MESSAGE\",\"sender\":\"AGENT\",\"msg_kind\":\"TEXT\",\"agent_id\":\"" a "\""
#define HUMAN_REQ "\"type\":\"HUMAN_REQUESTED\""
#define ASSIGN(a) "\"type\":\"ASSIGNED\",\"agent_id\":\"" a "\""
#define TRANSFER(from, to)                                                                         \
    "\"type\":\"TRANSFERRED\",\"from_agent_id\":\"" from "\",\"agent_id\":\"" to "\""
#define CLOSED(why) "\"type\":\"SESSION_CLOSED\",\"reason\":\"" why "\""
#define INVITED "\"type\":\"RATING_INVITED\",\"reason\":\"SYSTEM_AUTO\""
#define RATED(n) "\"type\":\"RATED\",\"stars\":" #n

static long next_id;

static int feed_at(csm_testkit *tk, const char *cust, int64_t ts, const char *fields)
{
    char line[1024];
    snprintf(
        line, sizeof line,
        "{\"stream\":\"chat\",\"event_id\":\"e%ld\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
        "\"customer_id\":\"%s\",\"ts\":%lld,%s}",
        ++next_id, cust, (long long)ts, fields);
    return csm_testkit_feed(tk, line);
}

static int feed_paid(csm_testkit *tk, const char *cust, int64_t ts)
{
    char line[512];
    long id = ++next_id;
    snprintf(
        line, sizeof line,
        "{\"stream\":\"order\",\"event_id\":\"o%ld\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
        "\"customer_id\":\"%s\",\"ts\":%lld,\"order_id\":\"ord%ld\",\"type\":\"PAID\"}",
        id, cust, (long long)ts, id);
    return csm_testkit_feed(tk, line);
}

#define EV(cust, ts, fields) assert_int_equal(feed_at(tk, cust, ts, fields), CSM_TK_ACCEPTED)

static csm_testkit *start(void)
{
    char err[512];
    csm_testkit *tk = csm_testkit_new(CHAIN, err, sizeof err);
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
static int64_t agent(csm_testkit *tk, const char *id, const char *day, const char *f)
{
    char block[64];
    snprintf(block, sizeof block, "agent:%s", id);
    return csm_testkit_counter(tk, block, "s1", day, f);
}
static int64_t intent(csm_testkit *tk, const char *name, const char *day, const char *f)
{
    char block[64];
    snprintf(block, sizeof block, "intent:%s", name);
    return csm_testkit_counter(tk, block, "s1", day, f);
}

/* Board and all-day agree (everything in the window unless said). */
static void both(csm_testkit *tk, const char *day, const char *f, int64_t n)
{
    assert_int_equal(board(tk, day, f), n);
    assert_int_equal(allday(tk, day, f), n);
}

/* The five counters of @p block, in the order invited, rated, 4-5, 5, 1-2. */
static void five_in(csm_testkit *tk, const char *block, const char *day, const char *prefix,
                    int64_t inv, int64_t rated, int64_t r45, int64_t r5, int64_t r12)
{
    static const char *const names[] = {"invited", "rated", "rated_4_5", "rated_5", "rated_1_2"};
    const int64_t want[] = {inv, rated, r45, r5, r12};
    for (int i = 0; i < 5; i++) {
        char f[64];
        snprintf(f, sizeof f, "%s%s", prefix, names[i]);
        assert_int_equal(csm_testkit_counter(tk, block, "s1", day, f), want[i]);
    }
}

/* The same five on the board and all day alike. */
static void five(csm_testkit *tk, const char *day, const char *prefix, int64_t inv, int64_t rated,
                 int64_t r45, int64_t r5, int64_t r12)
{
    five_in(tk, "board", day, prefix, inv, rated, r45, r5, r12);
    five_in(tk, "allday", day, prefix, inv, rated, r45, r5, r12);
}

/* Index of the n-th DISSATISFIED alert (0-based), or -1. The core adds
 * its own SATISFACTION_BELOW_TARGET alerts at the end of input, which these
 * tests leave aside. */
static long dissatisfied(csm_testkit *tk, int n)
{
    const char *t;
    for (long i = 0; (t = csm_testkit_alert_field(tk, i, "type")); i++)
        if (!strcmp(t, "DISSATISFIED") && n-- == 0)
            return i;
    return -1;
}

static int64_t alert_i64(csm_testkit *tk, long i, const char *f)
{
    const char *v = csm_testkit_alert_field(tk, i, f);
    assert_non_null(v);
    return strtoll(v, NULL, 10);
}

/* A human-served session: message at 10:00, request 10:00:10, assigned a1
 * 10:00:20, reply 10:01, invited 10:05, rated 5 at 10:06. Everything is
 * anchored at 10:05 (window): invited, rated, rated_4_5, rated_5 1 each,
 * hourly rated.10 and rated_4_5.10; split presale (no PAID) and human
 * (assigned); agent a1 invited, rated, rated_4_5, rated_5 (no rated_1_2
 * per agent). No alert (5 stars). */
static void test_human_five_stars(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 20), ASSIGN("a1"));
    EV("c1", AT(10, 1, 0), MSG_A("a1"));
    EV("c1", AT(10, 5, 0), INVITED);
    EV("c1", AT(10, 6, 0), RATED(5));
    csm_testkit_end(tk);
    five(tk, D20, "", 1, 1, 1, 1, 0);
    five(tk, D20, "split.presale.", 1, 1, 1, 1, 0);
    five(tk, D20, "split.human.", 1, 1, 1, 1, 0);
    five(tk, D20, "split.aftersale.", 0, 0, 0, 0, 0);
    five(tk, D20, "split.robot.", 0, 0, 0, 0, 0);
    both(tk, D20, "hourly.rated.10", 1);
    both(tk, D20, "hourly.rated_4_5.10", 1);
    both(tk, D20, "hourly.invited.10", 0);
    assert_int_equal(agent(tk, "a1", D20, "invited"), 1);
    assert_int_equal(agent(tk, "a1", D20, "rated"), 1);
    assert_int_equal(agent(tk, "a1", D20, "rated_4_5"), 1);
    assert_int_equal(agent(tk, "a1", D20, "rated_5"), 1);
    assert_int_equal(agent(tk, "a1", D20, "rated_1_2"), 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "DISSATISFIED"), 0);
    csm_testkit_free(tk);
}

/* Robot sessions A (c1) and B (c2) open at 10:00, both invited at 10:00:30
 * and idle-closed at 10:15. c1 rates 4 at 11-21 10:00:30.000, exactly
 * 24 h after the invitation: counts, on 11-20 (the invitation's day, hour
 * 10). c2 rates 5 at 11-21 10:00:30.001: 24 h + 1 ms, not counted. Both
 * are routed to the closed sessions (well within 48 h of the close). */
static void test_24h_boundary(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c2", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 30), INVITED);
    EV("c2", AT(10, 0, 30), INVITED);
    EV("c1", AT(10, 0, 30) + DAYS(1), RATED(4));
    EV("c2", AT(10, 0, 30) + DAYS(1) + 1, RATED(5));
    csm_testkit_end(tk);
    five(tk, D20, "", 2, 1, 1, 0, 0);
    five(tk, D20, "split.robot.", 2, 1, 1, 0, 0);
    five(tk, D20, "split.presale.", 2, 1, 1, 0, 0);
    both(tk, D20, "hourly.rated.10", 1);
    five(tk, D21, "", 0, 0, 0, 0, 0);
    csm_testkit_free(tk);
}

/* Invited 10:01, rated 1 at 10:02 (counted: rated_1_2, DISSATISFIED),
 * rated 5 at 10:03: a session's second rating is ignored. */
static void test_second_rating_ignored(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 1, 0), INVITED);
    EV("c1", AT(10, 2, 0), RATED(1));
    EV("c1", AT(10, 3, 0), RATED(5));
    csm_testkit_end(tk);
    five(tk, D20, "", 1, 1, 0, 0, 1);
    both(tk, D20, "hourly.rated_4_5.10", 0);
    assert_int_equal(csm_testkit_alert_count(tk, "s1", "DISSATISFIED"), 1);
    assert_int_equal(alert_i64(tk, dissatisfied(tk, 0), "figure"), 1);
    csm_testkit_free(tk);
}

/* c1 has four sessions on 11-20, each opened at HH:00, invited HH:01,
 * rated HH:02, closed HH:03 (HH = 09, 10, 11, 12; stars 5, 5, 4, 1). The
 * 12:02 rating is c1's 4th of the day: it vanishes (no rated_1_2, no
 * alert) and does not use up session 4's rating, so the 3-star rating of
 * 11-21 09:00 (routed to session 4, the most recent, closed 21 h earlier;
 * 1st rating of 11-21; 20 h 59 m after the invitation) counts on 11-20:
 * invited 4, rated 4 (hours 09-12), rated_4_5 3, rated_5 2, rated_1_2 0. */
static void test_daily_cap(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    static const char *const stars[] = {RATED(5), RATED(5), RATED(4), RATED(1)};
    for (int i = 0; i < 4; i++) {
        EV("c1", AT(9 + i, 0, 0), MSG_C);
        EV("c1", AT(9 + i, 1, 0), INVITED);
        EV("c1", AT(9 + i, 2, 0), stars[i]);
        EV("c1", AT(9 + i, 3, 0), CLOSED("AGENT"));
    }
    EV("c1", AT(9, 0, 0) + DAYS(1), RATED(3));
    csm_testkit_end(tk);
    five(tk, D20, "", 4, 4, 3, 2, 0);
    both(tk, D20, "hourly.rated.09", 1);
    both(tk, D20, "hourly.rated.10", 1);
    both(tk, D20, "hourly.rated.11", 1);
    both(tk, D20, "hourly.rated.12", 1);
    both(tk, D20, "hourly.rated_4_5.12", 0);
    five(tk, D21, "", 0, 0, 0, 0, 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "DISSATISFIED"), 0);
    csm_testkit_free(tk);
}

/* The cap numbers every routed RATED, a session's ignored second rating
 * included: c2 rates session 1 at 09:02 (5, #1) and 09:03 (1, #2, ignored
 * as a second rating), session 2 at 10:02 (4, #3, counted), session 3 at
 * 11:02 (2, #4: vanishes). Another customer's ratings are numbered apart:
 * c3's single 11:30 rating (5) counts. invited 4, rated 3, rated_4_5 3,
 * rated_5 2, rated_1_2 0, no alert. */
static void test_cap_numbers_every_rating(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c2", AT(9, 0, 0), MSG_C);
    EV("c2", AT(9, 1, 0), INVITED);
    EV("c2", AT(9, 2, 0), RATED(5));
    EV("c2", AT(9, 3, 0), RATED(1));
    EV("c2", AT(9, 4, 0), CLOSED("AGENT"));
    EV("c2", AT(10, 0, 0), MSG_C);
    EV("c2", AT(10, 1, 0), INVITED);
    EV("c2", AT(10, 2, 0), RATED(4));
    EV("c2", AT(10, 4, 0), CLOSED("AGENT"));
    EV("c2", AT(11, 0, 0), MSG_C);
    EV("c2", AT(11, 1, 0), INVITED);
    EV("c2", AT(11, 2, 0), RATED(2));
    EV("c3", AT(11, 20, 0), MSG_C);
    EV("c3", AT(11, 25, 0), INVITED);
    EV("c3", AT(11, 30, 0), RATED(5));
    csm_testkit_end(tk);
    five(tk, D20, "", 4, 3, 3, 2, 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "DISSATISFIED"), 0);
    csm_testkit_free(tk);
}

/* No invitation: c1's own rating (4 at 11:05, robot session opened 11:00)
 * is its invitation: invited and rated anchored at 11:05. The invitation
 * at 11:06 does not count again (a session is invited once) and the 5 at
 * 11:07 is a second rating. */
static void test_self_rating(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(11, 0, 0), MSG_C);
    EV("c1", AT(11, 5, 0), RATED(4));
    EV("c1", AT(11, 6, 0), INVITED);
    EV("c1", AT(11, 7, 0), RATED(5));
    csm_testkit_end(tk);
    five(tk, D20, "", 1, 1, 1, 0, 0);
    five(tk, D20, "split.robot.", 1, 1, 1, 0, 0);
    both(tk, D20, "hourly.rated.11", 1);
    both(tk, D20, "hourly.rated_4_5.11", 1);
    csm_testkit_free(tk);
}

/* Invitations after the close take the session's state at the close.
 * c1: human-served, a1 then transferred to a2, closed 14:05; invited 14:30
 * (human, agent a2), rated 2 at 14:40 → rated_1_2, DISSATISFIED (anchor
 * 14:30, raised 14:40, figure 2, agent a2, opened 14:00). c2: robot,
 * idle-closed 15:15, invited 15:20, rated 5 at 15:21 → robot. */
static void test_invited_after_close(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(14, 0, 0), MSG_C);
    EV("c1", AT(14, 0, 10), HUMAN_REQ);
    EV("c1", AT(14, 0, 20), ASSIGN("a1"));
    EV("c1", AT(14, 1, 0), MSG_A("a1"));
    EV("c1", AT(14, 2, 0), TRANSFER("a1", "a2"));
    EV("c1", AT(14, 3, 0), MSG_A("a2"));
    EV("c1", AT(14, 5, 0), CLOSED("AGENT"));
    EV("c1", AT(14, 30, 0), INVITED);
    EV("c1", AT(14, 40, 0), RATED(2));
    EV("c2", AT(15, 0, 0), MSG_C);
    EV("c2", AT(15, 20, 0), INVITED);
    EV("c2", AT(15, 21, 0), RATED(5));
    csm_testkit_end(tk);
    five(tk, D20, "", 2, 2, 1, 1, 1);
    five(tk, D20, "split.human.", 1, 1, 0, 0, 1);
    five(tk, D20, "split.robot.", 1, 1, 1, 1, 0);
    assert_int_equal(agent(tk, "a2", D20, "invited"), 1);
    assert_int_equal(agent(tk, "a2", D20, "rated"), 1);
    assert_int_equal(agent(tk, "a2", D20, "rated_4_5"), 0);
    assert_int_equal(agent(tk, "a1", D20, "invited"), 0);
    assert_int_equal(agent(tk, "a1", D20, "rated"), 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "DISSATISFIED"), 1);
    long a = dissatisfied(tk, 0);
    assert_true(a >= 0);
    assert_string_equal(csm_testkit_alert_field(tk, a, "shop_id"), "s1");
    assert_string_equal(csm_testkit_alert_field(tk, a, "customer_id"), "c1");
    assert_string_equal(csm_testkit_alert_field(tk, a, "agent_id"), "a2");
    assert_string_equal(csm_testkit_alert_field(tk, a, "day"), D20);
    assert_int_equal(alert_i64(tk, a, "session_open_ts"), AT(14, 0, 0));
    assert_int_equal(alert_i64(tk, a, "anchor_ts"), AT(14, 30, 0));
    assert_int_equal(alert_i64(tk, a, "raised_ts"), AT(14, 40, 0));
    assert_int_equal(alert_i64(tk, a, "figure"), 2);
    csm_testkit_free(tk);
}

/* The rating belongs to the agent at the invitation: a1 invited at 10:02,
 * transferred to a2 at 10:03, rated 1 at 10:04 → agent a1 invited, rated;
 * a2 nothing. The DISSATISFIED alert carries the session's agent when it
 * is raised (metrics.md, Settled details, Alerts): a2. */
static void test_agent_at_invitation(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 20), ASSIGN("a1"));
    EV("c1", AT(10, 1, 0), MSG_A("a1"));
    EV("c1", AT(10, 2, 0), INVITED);
    EV("c1", AT(10, 3, 0), TRANSFER("a1", "a2"));
    EV("c1", AT(10, 4, 0), RATED(1));
    csm_testkit_end(tk);
    assert_int_equal(agent(tk, "a1", D20, "invited"), 1);
    assert_int_equal(agent(tk, "a1", D20, "rated"), 1);
    assert_int_equal(agent(tk, "a2", D20, "invited"), 0);
    assert_int_equal(agent(tk, "a2", D20, "rated"), 0);
    five(tk, D20, "split.human.", 1, 1, 0, 0, 1);
    assert_int_equal(csm_testkit_alert_count(tk, "s1", "DISSATISFIED"), 1);
    long a = dissatisfied(tk, 0);
    assert_true(a >= 0);
    assert_string_equal(csm_testkit_alert_field(tk, a, "agent_id"), "a2");
    assert_int_equal(alert_i64(tk, a, "anchor_ts"), AT(10, 2, 0));
    csm_testkit_free(tk);
}

/* Window and day: c2 invited 22:59:59 (in the window), rated 4 at 11-21
 * 00:05 → board and all day of 11-20, hour 22. c1 invited 23:31 (outside
 * the window), rated 5 at 11-21 00:10 → all day of 11-20 only, hour 23.
 * Nothing on 11-21. */
static void test_window_and_next_day(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c2", AT(22, 50, 0), MSG_C);
    EV("c2", AT(22, 59, 59), INVITED);
    EV("c1", AT(23, 30, 0), MSG_C);
    EV("c1", AT(23, 31, 0), INVITED);
    EV("c2", AT(24, 5, 0), RATED(4));
    EV("c1", AT(24, 10, 0), RATED(5));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "invited"), 1);
    assert_int_equal(board(tk, D20, "rated"), 1);
    assert_int_equal(board(tk, D20, "rated_4_5"), 1);
    assert_int_equal(board(tk, D20, "rated_5"), 0);
    assert_int_equal(board(tk, D20, "hourly.rated.22"), 1);
    assert_int_equal(board(tk, D20, "hourly.rated.23"), 0);
    assert_int_equal(allday(tk, D20, "invited"), 2);
    assert_int_equal(allday(tk, D20, "rated"), 2);
    assert_int_equal(allday(tk, D20, "rated_4_5"), 2);
    assert_int_equal(allday(tk, D20, "rated_5"), 1);
    assert_int_equal(allday(tk, D20, "hourly.rated.22"), 1);
    assert_int_equal(allday(tk, D20, "hourly.rated.23"), 1);
    assert_int_equal(allday(tk, D20, "split.robot.rated"), 2);
    five(tk, D21, "", 0, 0, 0, 0, 0);
    csm_testkit_free(tk);
}

/* After-sale: c1 paid on 11-19 (D-1) → aftersale; c2 never paid →
 * presale. c1 rates 5, c2 rates 2. */
static void test_aftersale_split(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    assert_int_equal(feed_paid(tk, "c1", T0 - HRS(12)), CSM_TK_ACCEPTED);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c2", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 1, 0), INVITED);
    EV("c2", AT(10, 1, 0), INVITED);
    EV("c1", AT(10, 2, 0), RATED(5));
    EV("c2", AT(10, 2, 0), RATED(2));
    csm_testkit_end(tk);
    five(tk, D20, "split.aftersale.", 1, 1, 1, 1, 0);
    five(tk, D20, "split.presale.", 1, 1, 0, 0, 1);
    five(tk, D20, "", 2, 2, 1, 1, 1);
    csm_testkit_free(tk);
}

/* Intents, by the session's opening day:
 * c1 opens 10:00 with intent size (sessions), rated 1 → size rated,
 *    rated_1_2.
 * c2 opens 10:00 without intent, rated 2 at 10:02 (intent figures wait),
 *    idle-closed 10:15; an invitation at 10:30 carrying intent refund sets
 *    it → refund sessions, rated, rated_1_2 (invited not counted again).
 * c3 opens 10:00 with intent size, never rated → size sessions 2.
 * c4 opens 23:50 with intent refund (sessions on 11-20), idle-closed 11-21
 *    00:05, invited 00:10 and rated 5 at 00:11: board figures on 11-21
 *    (all day only), intent refund rated on 11-20.
 * c5 has no intent: rated 5, no intent figure.
 * size: sessions 2, rated 1, rated_1_2 1; refund: sessions 2, rated 2,
 * rated_1_2 1 (a tie on sessions). */
static void test_intents(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), MSG_CI("size"));
    EV("c2", AT(10, 0, 0), MSG_C);
    EV("c3", AT(10, 0, 0), MSG_CI("size"));
    EV("c5", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 1, 0), INVITED);
    EV("c2", AT(10, 1, 0), INVITED);
    EV("c5", AT(10, 1, 0), INVITED);
    EV("c1", AT(10, 2, 0), RATED(1));
    EV("c2", AT(10, 2, 0), RATED(2));
    EV("c5", AT(10, 2, 0), RATED(5));
    EV("c2", AT(10, 30, 0), INVITED ",\"intent\":\"refund\"");
    EV("c4", AT(23, 50, 0), MSG_CI("refund"));
    EV("c4", AT(24, 10, 0), INVITED);
    EV("c4", AT(24, 11, 0), RATED(5));
    csm_testkit_end(tk);
    assert_int_equal(intent(tk, "size", D20, "sessions"), 2);
    assert_int_equal(intent(tk, "size", D20, "rated"), 1);
    assert_int_equal(intent(tk, "size", D20, "rated_1_2"), 1);
    assert_int_equal(intent(tk, "refund", D20, "sessions"), 2);
    assert_int_equal(intent(tk, "refund", D20, "rated"), 2);
    assert_int_equal(intent(tk, "refund", D20, "rated_1_2"), 1);
    assert_int_equal(intent(tk, "refund", D21, "sessions"), 0);
    assert_int_equal(intent(tk, "refund", D21, "rated"), 0);
    five(tk, D20, "", 3, 3, 1, 1, 2);
    assert_int_equal(board(tk, D21, "invited"), 0);
    assert_int_equal(allday(tk, D21, "invited"), 1);
    assert_int_equal(allday(tk, D21, "rated"), 1);
    assert_int_equal(allday(tk, D21, "rated_5"), 1);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "DISSATISFIED"), 2);
    csm_testkit_free(tk);
}

/* Eviction must not forget a session the session builder can still route
 * to. c1 is invited 10:01 (session idle-closed 10:15), invited again on
 * 11-22 at 09:00 (46 h 45 m after the close: routed, not counted), and
 * rates 5 on 11-24 at 08:00 (47 h after that invitation: still routed).
 * The rating is 94 h after the first invitation: not counted — and not
 * taken for a self-invitation either. */
static void test_late_rating_keeps_session(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 1, 0), INVITED);
    EV("c1", AT(9, 0, 0) + DAYS(2), INVITED);
    EV("c1", AT(8, 0, 0) + DAYS(4), RATED(5));
    csm_testkit_end(tk);
    five(tk, D20, "", 1, 0, 0, 0, 0);
    five(tk, D22, "", 0, 0, 0, 0, 0);
    five(tk, D24, "", 0, 0, 0, 0, 0);
    csm_testkit_free(tk);
}

/* ---- restarts (csm_testkit_restart: checkpoint, kill -9, load) ---- */

#define CHAT_EV(cust, ts, fields)                                                                  \
    {                                                                                              \
        "chat", "s1", cust, ts, fields                                                             \
    }

/* Across three days, with sessions open, ratings pending their 24 h,
 * customer-day records and the sweep timer live at most cuts:
 *  A (c1, presale): opens 10:00, request 10:00:30, assigned a1 10:01,
 *    invited 10:05, transferred to a2 10:06, rated 2 at 10:07 (c1's 1st
 *    rating of 11-20), closed 10:10.
 *  B (c1): opens 11:00, invited 11:01, rated 5 at 11:02 (2nd), 4 at 11:03
 *    (3rd, a second rating: ignored), closed 11:10; an invitation at 11:30
 *    routed to the closed session sets intent "size" (repeated: not
 *    counted); rated 1 at 11:40: c1's 4th of the day, vanishes. On 11-21
 *    10:00 rated 3 (1st of that day, but B has its rating): nothing.
 *  C (c2): opens 12:00, closed 12:10, rates 4 at 13:00 with no invitation.
 *  D (c3, intent "refund"): opens 23:00, invited 23:05, closed 23:10,
 *    rated 1 at 11-21 23:05, exactly 24 h after the invitation.
 *  E (c4, after-sale by a PAID of 11-20): opens 11-21 09:00, invited
 *    09:01, closed 09:10, rates 5 at 11-22 09:01:00.001, 24 h + 1 ms late. */
static const rs_event sat_script[] = {
    CHAT_EV("c1", AT(10, 0, 0), MSG_C),
    CHAT_EV("c1", AT(10, 0, 30), HUMAN_REQ),
    CHAT_EV("c1", AT(10, 1, 0), ASSIGN("a1")),
    CHAT_EV("c1", AT(10, 5, 0), INVITED),
    CHAT_EV("c1", AT(10, 6, 0), TRANSFER("a1", "a2")),
    CHAT_EV("c1", AT(10, 7, 0), RATED(2)),
    CHAT_EV("c1", AT(10, 10, 0), CLOSED("AGENT")),
    CHAT_EV("c1", AT(11, 0, 0), MSG_C),
    CHAT_EV("c1", AT(11, 1, 0), INVITED),
    CHAT_EV("c1", AT(11, 2, 0), RATED(5)),
    CHAT_EV("c1", AT(11, 3, 0), RATED(4)),
    CHAT_EV("c1", AT(11, 10, 0), CLOSED("AGENT")),
    CHAT_EV("c1", AT(11, 30, 0), INVITED ",\"intent\":\"size\""),
    CHAT_EV("c1", AT(11, 40, 0), RATED(1)),
    {"order", "s1", "c4", AT(12, 0, 0), "\"type\":\"PAID\",\"order_id\":\"o4\""},
    CHAT_EV("c2", AT(12, 0, 0), MSG_C),
    CHAT_EV("c2", AT(12, 10, 0), CLOSED("AGENT")),
    CHAT_EV("c2", AT(13, 0, 0), RATED(4)),
    CHAT_EV("c3", AT(23, 0, 0), MSG_CI("refund")),
    CHAT_EV("c3", AT(23, 5, 0), INVITED),
    CHAT_EV("c3", AT(23, 10, 0), CLOSED("AGENT")),
    CHAT_EV("c4", AT(33, 0, 0), MSG_C),
    CHAT_EV("c4", AT(33, 1, 0), INVITED),
    CHAT_EV("c4", AT(33, 10, 0), CLOSED("AGENT")),
    CHAT_EV("c1", AT(34, 0, 0), RATED(3)),
    CHAT_EV("c3", AT(47, 5, 0), RATED(1)),
    CHAT_EV("c4", AT(57, 1, 0) + 1, RATED(5)),
};
#define SAT_N (sizeof sat_script / sizeof *sat_script)

/* The figures of the script, from the rules (README.md "Rules"):
 *  11-20 board (A, B, C; D's 23:05 is past the 23:00 window end):
 *    invited 3, rated 3 (A 2, B 5, C 4), rated_4_5 2, rated_5 1,
 *    rated_1_2 1 (A); all day adds D: invited 4, rated 4, rated_1_2 2.
 *    Splits: human = A only, robot = B, C (+ D all day); everything
 *    presale (E's PAID is on 11-20).
 *    Agent a1 (A's agent at the invitation): invited 1, rated 1.
 *    Intent size: sessions 1, rated 1 (B's 5 stars, counted when the
 *    intent came); refund: sessions 1, rated 1, rated_1_2 1.
 *  11-21: E invited 09:01 (board), after-sale, robot; nothing rated.
 *  Two DISSATISFIED: c1 (2 stars, agent a2 at the rating), c3 (1 star). */
static void check_sat_script(csm_testkit *tk)
{
    five_in(tk, "board", D20, "", 3, 3, 2, 1, 1);
    five_in(tk, "allday", D20, "", 4, 4, 2, 1, 2);
    five(tk, D20, "split.human.", 1, 1, 0, 0, 1);
    five_in(tk, "board", D20, "split.robot.", 2, 2, 2, 1, 0);
    five_in(tk, "allday", D20, "split.robot.", 3, 3, 2, 1, 1);
    five_in(tk, "allday", D20, "split.presale.", 4, 4, 2, 1, 2);
    five(tk, D20, "split.aftersale.", 0, 0, 0, 0, 0);
    assert_int_equal(agent(tk, "a1", D20, "invited"), 1);
    assert_int_equal(agent(tk, "a1", D20, "rated"), 1);
    assert_int_equal(agent(tk, "a2", D20, "invited"), 0);
    assert_int_equal(intent(tk, "size", D20, "sessions"), 1);
    assert_int_equal(intent(tk, "size", D20, "rated"), 1);
    assert_int_equal(intent(tk, "size", D20, "rated_1_2"), 0);
    assert_int_equal(intent(tk, "refund", D20, "sessions"), 1);
    assert_int_equal(intent(tk, "refund", D20, "rated"), 1);
    assert_int_equal(intent(tk, "refund", D20, "rated_1_2"), 1);
    five(tk, D21, "", 1, 0, 0, 0, 0);
    five(tk, D21, "split.aftersale.", 1, 0, 0, 0, 0);
    five(tk, D21, "split.robot.", 1, 0, 0, 0, 0);
    five(tk, D22, "", 0, 0, 0, 0, 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "DISSATISFIED"), 2);
    long a = dissatisfied(tk, 0), b = dissatisfied(tk, 1);
    assert_string_equal(csm_testkit_alert_field(tk, a, "customer_id"), "c1");
    assert_string_equal(csm_testkit_alert_field(tk, a, "agent_id"), "a2");
    assert_int_equal(alert_i64(tk, a, "figure"), 2);
    assert_string_equal(csm_testkit_alert_field(tk, b, "customer_id"), "c3");
    assert_int_equal(alert_i64(tk, b, "figure"), 1);
}

static void test_restart_figures(void **state)
{
    (void)state;
    rs_check_figures(CHAIN, sat_script, SAT_N, check_sat_script);
}

static void test_restart_anywhere(void **state)
{
    (void)state;
    rs_check_restarts(CHAIN, sat_script, SAT_N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_human_five_stars),
        cmocka_unit_test(test_24h_boundary),
        cmocka_unit_test(test_second_rating_ignored),
        cmocka_unit_test(test_daily_cap),
        cmocka_unit_test(test_cap_numbers_every_rating),
        cmocka_unit_test(test_self_rating),
        cmocka_unit_test(test_invited_after_close),
        cmocka_unit_test(test_agent_at_invitation),
        cmocka_unit_test(test_window_and_next_day),
        cmocka_unit_test(test_aftersale_split),
        cmocka_unit_test(test_intents),
        cmocka_unit_test(test_late_rating_keeps_session),
        cmocka_unit_test(test_restart_figures),
        cmocka_unit_test(test_restart_anywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
