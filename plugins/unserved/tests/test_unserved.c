/* The unserved detector through the test kit, chain session → unserved.
 * Every expected figure is worked out by hand from metrics.md
 * (unserved_offline, unserved_noreply, hourly "unserved", "Per-agent
 * figures", "Alerts" UNSERVED) in the comment above its assertions.
 * Times are shop-local (Asia/Shanghai, the default; assessment window
 * 08:00-23:00); T0 is 2026-11-20T00:00:00+08:00. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "csmetrics/testkit.h"
#include "../../session/tests/restart_mode.h"

#define T0 1795104000000LL /* 2026-11-20T00:00:00+08:00 */
#define D20 "2026-11-20"
#define D21 "2026-11-21"
#define SEC(x) ((int64_t)(x)*1000LL)
#define MIN(x) ((int64_t)(x)*60000LL)
#define HRS(x) ((int64_t)(x)*3600000LL)
#define AT(h, m, s) (T0 + HRS(h) + MIN(m) + SEC(s))

#define CHAIN "plugins:\n  - session\n  - unserved\n"

#define MSG_C "\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\",\"msg_kind\":\"TEXT\""
#define MSG_A(a)                                                                                   \
    "\"type\":\"MESSAGE\",\"sender\":\"AGENT\",\"msg_kind\":\"TEXT\",\"agent_id\":\"" a "\""
#define MSG_AK(a, kind)                                                                            \
    "\"type\":\"MESSAGE\",\"sender\":\"AGENT\",\"msg_kind\":\"" kind "\",\"agent_id\":\"" a "\""
#define HUMAN_REQ "\"type\":\"HUMAN_REQUESTED\""
#define ASSIGN(a) "\"type\":\"ASSIGNED\",\"agent_id\":\"" a "\""
#define TRANSFER(from, to)                                                                         \
    "\"type\":\"TRANSFERRED\",\"from_agent_id\":\"" from "\",\"agent_id\":\"" to "\""
#define OFFLINE(why) "\"type\":\"OFFLINE_MESSAGE\",\"reason\":\"" why "\""
#define CLOSED(why) "\"type\":\"SESSION_CLOSED\",\"reason\":\"" why "\""

static long next_id;

static int feed_at(csm_testkit *tk, const char *cust, int64_t ts, const char *fields)
{
    char line[1024];
    snprintf(
        line, sizeof line,
        "{\"stream\":\"chat\",\"event_id\":\"u%ld\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
        "\"customer_id\":\"%s\",\"ts\":%lld,%s}",
        ++next_id, cust, (long long)ts, fields);
    return feed_line(tk, line);
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
static int64_t agent(csm_testkit *tk, const char *id, const char *day)
{
    char block[64];
    snprintf(block, sizeof block, "agent:%s", id);
    return csm_testkit_counter(tk, block, "s1", day, "unserved_noreply");
}
/* Integer field of the i-th alert. */
static int64_t alert_i64(csm_testkit *tk, long i, const char *f)
{
    const char *v = csm_testkit_alert_field(tk, i, f);
    assert_non_null(v);
    return strtoll(v, NULL, 10);
}

/* Both blocks of the shop agree (everything in the window unless said). */
static void both(csm_testkit *tk, const char *day, const char *f, int64_t n)
{
    assert_int_equal(board(tk, day, f), n);
    assert_int_equal(allday(tk, day, f), n);
}

/* Three human requests at 10:00, 10:10, 11:00 go to the offline box with
 * each reason: unserved_offline 3, anchored at the requests (hourly
 * unserved.10 = 2, .11 = 1); no alert (UNSERVED is for noreply only). */
static void test_offline_each_reason(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), HUMAN_REQ);
    EV("c1", AT(10, 0, 30), OFFLINE("NO_AGENT_ONLINE"));
    EV("c2", AT(10, 10, 0), HUMAN_REQ);
    EV("c2", AT(10, 11, 0), OFFLINE("ALL_BUSY"));
    EV("c3", AT(11, 0, 0), HUMAN_REQ);
    EV("c3", AT(11, 5, 0), OFFLINE("QUEUE_ABANDONED"));
    csm_testkit_end(tk);
    both(tk, D20, "human_requested", 3);
    both(tk, D20, "unserved_offline", 3);
    both(tk, D20, "unserved_noreply", 0);
    both(tk, D20, "hourly.unserved.10", 2);
    both(tk, D20, "hourly.unserved.11", 1);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "UNSERVED"), 0);
    csm_testkit_free(tk);
}

/* c1 writes at 10:59:00, an OFFLINE_MESSAGE comes at 10:59:30 before any
 * request, a second one at 10:59:40, the request at 11:00:10: counted once,
 * at the request (anchor 11:00:10 → hourly unserved.11). */
static void test_offline_before_request(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 59, 0), MSG_C);
    EV("c1", AT(10, 59, 30), OFFLINE("NO_AGENT_ONLINE"));
    EV("c1", AT(10, 59, 40), OFFLINE("ALL_BUSY"));
    EV("c1", AT(11, 0, 10), HUMAN_REQ);
    EV("c1", AT(11, 0, 20), OFFLINE("ALL_BUSY"));
    csm_testkit_end(tk);
    both(tk, D20, "unserved_offline", 1);
    both(tk, D20, "hourly.unserved.10", 0);
    both(tk, D20, "hourly.unserved.11", 1);
    csm_testkit_free(tk);
}

/* An OFFLINE_MESSAGE in a session never human-requested counts nothing. */
static void test_offline_without_request(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 30), OFFLINE("NO_AGENT_ONLINE"));
    csm_testkit_end(tk);
    both(tk, D20, "unserved_offline", 0);
    both(tk, D20, "hourly.unserved.10", 0);
    csm_testkit_free(tk);
}

/* Request 10:00:00, assigned to a1 at 10:00:20, a1 sends only a WELCOME
 * and an AUTO_REPLY, SESSION_CLOSED at 10:05:00: unserved_noreply 1
 * (board, all day, hourly unserved.10, agent a1), one UNSERVED alert with
 * anchor = request, raised = close, figure = close − request = 300000. */
static void test_noreply_auto_only(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(9, 59, 50), MSG_C);
    EV("c1", AT(10, 0, 0), HUMAN_REQ);
    EV("c1", AT(10, 0, 20), ASSIGN("a1"));
    EV("c1", AT(10, 0, 21), MSG_AK("a1", "WELCOME"));
    EV("c1", AT(10, 1, 0), MSG_AK("a1", "AUTO_REPLY"));
    EV("c1", AT(10, 5, 0), CLOSED("AGENT"));
    csm_testkit_end(tk);
    both(tk, D20, "unserved_noreply", 1);
    both(tk, D20, "unserved_offline", 0);
    both(tk, D20, "hourly.unserved.10", 1);
    assert_int_equal(agent(tk, "a1", D20), 1);
    assert_int_equal(csm_testkit_alert_count(tk, "s1", "UNSERVED"), 1);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 1);
    assert_string_equal(csm_testkit_alert_field(tk, 0, "type"), "UNSERVED");
    assert_string_equal(csm_testkit_alert_field(tk, 0, "shop_id"), "s1");
    assert_string_equal(csm_testkit_alert_field(tk, 0, "customer_id"), "c1");
    assert_string_equal(csm_testkit_alert_field(tk, 0, "agent_id"), "a1");
    assert_string_equal(csm_testkit_alert_field(tk, 0, "day"), D20);
    assert_int_equal(alert_i64(tk, 0, "session_open_ts"), AT(9, 59, 50));
    assert_int_equal(alert_i64(tk, 0, "anchor_ts"), AT(10, 0, 0));
    assert_int_equal(alert_i64(tk, 0, "raised_ts"), AT(10, 5, 0));
    assert_int_equal(alert_i64(tk, 0, "figure"), MIN(5));
    csm_testkit_free(tk);
}

/* One human reply (any agent) makes the session served: nothing. */
static void test_human_reply_served(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), HUMAN_REQ);
    EV("c1", AT(10, 0, 20), ASSIGN("a1"));
    EV("c1", AT(10, 0, 21), MSG_AK("a1", "WELCOME"));
    EV("c1", AT(10, 2, 0), MSG_A("a9"));
    EV("c1", AT(10, 5, 0), CLOSED("AGENT"));
    csm_testkit_end(tk);
    both(tk, D20, "unserved_noreply", 0);
    both(tk, D20, "unserved_offline", 0);
    both(tk, D20, "hourly.unserved.10", 0);
    assert_int_equal(agent(tk, "a1", D20), 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 0);
    csm_testkit_free(tk);
}

/* Offline at 10:01, recalled and assigned at 10:30, closed at 10:40
 * without a human reply: counted in unserved_offline only (at most one of
 * the two, offline first), no alert. */
static void test_offline_then_assigned(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), HUMAN_REQ);
    EV("c1", AT(10, 1, 0), OFFLINE("ALL_BUSY"));
    EV("c1", AT(10, 10, 0), MSG_C);
    EV("c1", AT(10, 30, 0), ASSIGN("a1"));
    EV("c1", AT(10, 40, 0), CLOSED("SYSTEM"));
    csm_testkit_end(tk);
    both(tk, D20, "unserved_offline", 1);
    both(tk, D20, "unserved_noreply", 0);
    both(tk, D20, "hourly.unserved.10", 1);
    assert_int_equal(agent(tk, "a1", D20), 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 0);
    csm_testkit_free(tk);
}

/* Assigned to a1, transferred to a2, closed unanswered: the agent at
 * close is a2 (per agent and in the alert); a1 gets nothing. */
static void test_transfer_attribution(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(14, 0, 0), HUMAN_REQ);
    EV("c1", AT(14, 0, 30), ASSIGN("a1"));
    EV("c1", AT(14, 3, 0), TRANSFER("a1", "a2"));
    EV("c1", AT(14, 10, 0), CLOSED("CUSTOMER"));
    csm_testkit_end(tk);
    both(tk, D20, "unserved_noreply", 1);
    both(tk, D20, "hourly.unserved.14", 1);
    assert_int_equal(agent(tk, "a1", D20), 0);
    assert_int_equal(agent(tk, "a2", D20), 1);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "UNSERVED"), 1);
    assert_string_equal(csm_testkit_alert_field(tk, 0, "agent_id"), "a2");
    assert_int_equal(alert_i64(tk, 0, "figure"), MIN(10));
    csm_testkit_free(tk);
}

/* Requests at 07:30 (outside 08:00-23:00) and 08:00 (window start, in):
 * both noreply; the 07:30 one goes to the all-day block only, also for
 * unserved_offline (requests at 23:00 out, 22:59:59 in). Per agent counts
 * the whole day. */
static void test_window(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(7, 30, 0), HUMAN_REQ);
    EV("c1", AT(7, 31, 0), ASSIGN("a1"));
    EV("c1", AT(7, 40, 0), CLOSED("AGENT"));
    EV("c2", AT(8, 0, 0), HUMAN_REQ);
    EV("c2", AT(8, 1, 0), ASSIGN("a1"));
    EV("c2", AT(8, 10, 0), CLOSED("AGENT"));
    EV("c3", AT(22, 59, 59), HUMAN_REQ);
    EV("c3", AT(23, 0, 5), OFFLINE("NO_AGENT_ONLINE"));
    EV("c4", AT(23, 0, 0), HUMAN_REQ);
    EV("c4", AT(23, 0, 5), OFFLINE("NO_AGENT_ONLINE"));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "unserved_noreply"), 1);
    assert_int_equal(allday(tk, D20, "unserved_noreply"), 2);
    assert_int_equal(board(tk, D20, "hourly.unserved.07"), 0);
    assert_int_equal(allday(tk, D20, "hourly.unserved.07"), 1);
    both(tk, D20, "hourly.unserved.08", 1);
    assert_int_equal(agent(tk, "a1", D20), 2);
    assert_int_equal(board(tk, D20, "unserved_offline"), 1);
    assert_int_equal(allday(tk, D20, "unserved_offline"), 2);
    both(tk, D20, "hourly.unserved.22", 1);
    assert_int_equal(board(tk, D20, "hourly.unserved.23"), 0);
    assert_int_equal(allday(tk, D20, "hourly.unserved.23"), 1);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "UNSERVED"), 2);
    csm_testkit_free(tk);
}

/* Request 23:50 on the 20th, assigned 00:04 on the 21st (before the idle
 * close at 00:05; so not in the shop's `assigned`, which needs the
 * request's day), never answered: idle close at request + 15 min = 00:05
 * (a HUMAN_REQUESTED is not a message, so nothing blocks it). Still unserved_noreply, anchored at
 * the request (day 20, hour 23, outside the window → all day only); per agent on day 20 too. */
static void test_assigned_next_day(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(23, 50, 0), HUMAN_REQ);
    EV("c1", AT(24, 4, 0), ASSIGN("a1"));
    csm_testkit_end(tk);
    assert_int_equal(allday(tk, D20, "assigned"), 0);
    assert_int_equal(allday(tk, D20, "unserved_noreply"), 1);
    assert_int_equal(board(tk, D20, "unserved_noreply"), 0);
    assert_int_equal(allday(tk, D20, "hourly.unserved.23"), 1);
    assert_int_equal(allday(tk, D21, "unserved_noreply"), 0);
    assert_int_equal(agent(tk, "a1", D20), 1);
    assert_int_equal(agent(tk, "a1", D21), 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "UNSERVED"), 1);
    assert_string_equal(csm_testkit_alert_field(tk, 0, "day"), D20);
    assert_int_equal(alert_i64(tk, 0, "raised_ts"), AT(24, 5, 0));
    assert_int_equal(alert_i64(tk, 0, "figure"), MIN(15));
    csm_testkit_free(tk);
}

/* Not counted: human-requested but never assigned and no offline (c1);
 * ASSIGNED before any request does not assign (c2); never requested (c3). */
static void test_not_counted(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), HUMAN_REQ);
    EV("c1", AT(10, 5, 0), CLOSED("CUSTOMER"));
    EV("c2", AT(11, 0, 0), MSG_C);
    EV("c2", AT(11, 0, 10), ASSIGN("a1"));
    EV("c2", AT(11, 5, 0), CLOSED("AGENT"));
    EV("c3", AT(12, 0, 0), MSG_C);
    EV("c3", AT(12, 0, 5), MSG_AK("a1", "WELCOME"));
    csm_testkit_end(tk);
    both(tk, D20, "unserved_noreply", 0);
    both(tk, D20, "unserved_offline", 0);
    assert_int_equal(agent(tk, "a1", D20), 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 0);
    csm_testkit_free(tk);
}

/* c1: customer message 10:00, request 10:00:10, assigned 10:00:20, never
 * answered: blocked, so no idle close; it closes at max_open (open + 24 h
 * = day 21 10:00) → noreply anchored at the request (day 20), alert raised
 * at 10:00 on day 21, figure = 24 h − 10 s.
 * c2: request only (a HUMAN_REQUESTED is not a message, so not blocked),
 * assigned, never answered: idle close at request + 15 min = 12:15 →
 * noreply, figure 15 min. */
static void test_timer_closes(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 20), ASSIGN("a1"));
    EV("c2", AT(12, 0, 0), HUMAN_REQ);
    EV("c2", AT(12, 1, 0), ASSIGN("a2"));
    csm_testkit_end(tk);
    both(tk, D20, "unserved_noreply", 2);
    both(tk, D20, "hourly.unserved.10", 1);
    both(tk, D20, "hourly.unserved.12", 1);
    assert_int_equal(agent(tk, "a1", D20), 1);
    assert_int_equal(agent(tk, "a2", D20), 1);
    assert_int_equal(allday(tk, D21, "unserved_noreply"), 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "UNSERVED"), 2);
    /* Timers fire in deadline order: c2 (12:15 day 20) before c1. */
    assert_string_equal(csm_testkit_alert_field(tk, 0, "customer_id"), "c2");
    assert_int_equal(alert_i64(tk, 0, "raised_ts"), AT(12, 15, 0));
    assert_int_equal(alert_i64(tk, 0, "figure"), MIN(15));
    assert_string_equal(csm_testkit_alert_field(tk, 1, "customer_id"), "c1");
    assert_string_equal(csm_testkit_alert_field(tk, 1, "agent_id"), "a1");
    assert_int_equal(alert_i64(tk, 1, "anchor_ts"), AT(10, 0, 10));
    assert_int_equal(alert_i64(tk, 1, "raised_ts"), AT(34, 0, 0));
    assert_int_equal(alert_i64(tk, 1, "figure"), HRS(24) - SEC(10));
    assert_string_equal(csm_testkit_alert_field(tk, 1, "day"), D20);
    csm_testkit_free(tk);
}

/* A blocked session is not closed by idleness: a customer message 40 min
 * after the last one stays in it, and the session ends served once a1
 * replies; nothing is counted. */
static void test_blocked_then_answered(void **state)
{
    (void)state;
    csm_testkit *tk = start();
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 20), ASSIGN("a1"));
    EV("c1", AT(10, 40, 0), MSG_C);
    EV("c1", AT(10, 45, 0), MSG_A("a1"));
    csm_testkit_end(tk);
    both(tk, D20, "sessions_started", 1);
    both(tk, D20, "unserved_noreply", 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 0);
    csm_testkit_free(tk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offline_each_reason),
        cmocka_unit_test(test_offline_before_request),
        cmocka_unit_test(test_offline_without_request),
        cmocka_unit_test(test_noreply_auto_only),
        cmocka_unit_test(test_human_reply_served),
        cmocka_unit_test(test_offline_then_assigned),
        cmocka_unit_test(test_transfer_attribution),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_assigned_next_day),
        cmocka_unit_test(test_not_counted),
        cmocka_unit_test(test_timer_closes),
        cmocka_unit_test(test_blocked_then_answered),
    };
    return RUN_BOTH_WAYS(tests);
}
