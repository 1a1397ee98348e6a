/* The SLA timer plugin through the test kit (chain: session, sla). Every
 * expected figure is worked out by hand from metrics.md ("Reply rounds",
 * "Per-agent figures", "Alerts", "Settled details") in the comment above
 * its assertions. Times are shop-local (Asia/Shanghai, the default; the
 * assessment window 08:00-23:00); T0 is 2026-11-20T00:00:00+08:00. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define CHAIN "plugins:\n  - session\n  - sla\n"

#define MSG_C "\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\",\"msg_kind\":\"TEXT\""
#define MSG_A(a)                                                                                   \
    "\"type\":\"MESSAGE\",\"sender\":\"AGENT\",\"msg_kind\":\"TEXT\",\"agent_id\":\"" a "\""
#define MSG_K(kind, a)                                                                             \
    "\"type\":\"MESSAGE\",\"sender\":\"AGENT\",\"msg_kind\":\"" kind "\",\"agent_id\":\"" a "\""
#define HUMAN_REQ "\"type\":\"HUMAN_REQUESTED\""
#define ASSIGN(a) "\"type\":\"ASSIGNED\",\"agent_id\":\"" a "\""
#define TRANSFER(from, to)                                                                         \
    "\"type\":\"TRANSFERRED\",\"from_agent_id\":\"" from "\",\"agent_id\":\"" to "\""
#define CLOSED(why) "\"type\":\"SESSION_CLOSED\",\"reason\":\"" why "\""
#define OFFLINE "\"type\":\"OFFLINE_MESSAGE\",\"reason\":\"NO_AGENT_ONLINE\""

static long next_id;

static int feed_at(csm_testkit *tk, const char *cust, int64_t ts, const char *fields)
{
    char line[1024];
    snprintf(
        line, sizeof line,
        "{\"stream\":\"chat\",\"event_id\":\"e%ld\",\"platform\":\"DOUYIN\",\"shop_id\":\"s1\","
        "\"customer_id\":\"%s\",\"ts\":%lld,%s}",
        ++next_id, cust, (long long)ts, fields);
    return feed_line(tk, line);
}

#define EV(cust, ts, fields) assert_int_equal(feed_at(tk, cust, ts, fields), CSM_TK_ACCEPTED)

static csm_testkit *start(const char *yaml)
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
static int64_t agent(csm_testkit *tk, const char *id, const char *day, const char *f)
{
    char block[64];
    snprintf(block, sizeof block, "agent:%s", id);
    return csm_testkit_counter(tk, block, "s1", day, f);
}

/* Index of the n-th alert (0-based) of @p type, or -1. */
static long find_alert(csm_testkit *tk, const char *type, int n)
{
    const char *t;
    for (long i = 0; (t = csm_testkit_alert_field(tk, i, "type")); i++)
        if (!strcmp(t, type) && n-- == 0)
            return i;
    return -1;
}

static int64_t alert_i64(csm_testkit *tk, long i, const char *field)
{
    const char *v = csm_testkit_alert_field(tk, i, field);
    assert_non_null(v);
    return strtoll(v, NULL, 10);
}

/* Checks the alert fields the plugin decides. */
static void check_alert(csm_testkit *tk, const char *type, const char *cust, int64_t open_ts,
                        const char *agent_id, int64_t anchor, int64_t raised, int64_t figure)
{
    long i = find_alert(tk, type, 0);
    assert_true(i >= 0);
    assert_string_equal(csm_testkit_alert_field(tk, i, "customer_id"), cust);
    assert_string_equal(csm_testkit_alert_field(tk, i, "shop_id"), "s1");
    assert_string_equal(csm_testkit_alert_field(tk, i, "agent_id"), agent_id);
    assert_int_equal(alert_i64(tk, i, "session_open_ts"), open_ts);
    assert_int_equal(alert_i64(tk, i, "anchor_ts"), anchor);
    assert_int_equal(alert_i64(tk, i, "raised_ts"), raised);
    assert_int_equal(alert_i64(tk, i, "figure"), figure);
}

/* c1: message 10:00:00, request 10:00:10, assigned a1 10:00:40, reply at
 * 10:02:10.000 = request + 120 000 ms: counts in first_reply_2m (hour 10),
 * no FIRST_RESPONSE_TIMEOUT (the reply at the deadline comes first).
 * c2: the same at 11:00, reply at request + 120 001 ms: not counted; the
 * alert is raised at request + 120 s = 11:02:10, agent a2, figure 120 000.
 * first_resp: 120 000 − 30 000 = 90 000 and 90 001 → sum 180 001, n 2.
 * Rounds: both 10:00/11:00 messages wait at the assignment, so a round
 * opens at 10:00:40 / 11:00:40, answered after 90 000 / 90 001 ms: rounds
 * 2, answered 2, resp_ms_sum 180 001, resp_3m 2, resp_30s = resp_60s = 0. */
static void test_first_reply_exact_threshold(void **state)
{
    (void)state;
    csm_testkit *tk = start(CHAIN);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 40), ASSIGN("a1"));
    EV("c1", AT(10, 0, 10) + 120000, MSG_A("a1"));
    EV("c2", AT(11, 0, 0), MSG_C);
    EV("c2", AT(11, 0, 10), HUMAN_REQ);
    EV("c2", AT(11, 0, 40), ASSIGN("a2"));
    EV("c2", AT(11, 0, 10) + 120001, MSG_A("a2"));
    csm_testkit_end(tk);
    for (int b = 0; b < 2; b++) {
        int64_t (*get)(csm_testkit *, const char *, const char *) = b ? allday : board;
        assert_int_equal(get(tk, D20, "first_reply_2m"), 1);
        assert_int_equal(get(tk, D20, "hourly.first_reply_2m.10"), 1);
        assert_int_equal(get(tk, D20, "hourly.first_reply_2m.11"), 0);
        assert_int_equal(get(tk, D20, "first_resp_ms_sum"), 180001);
        assert_int_equal(get(tk, D20, "first_resp_n"), 2);
        assert_int_equal(get(tk, D20, "rounds"), 2);
        assert_int_equal(get(tk, D20, "rounds_answered"), 2);
        assert_int_equal(get(tk, D20, "resp_ms_sum"), 180001);
        assert_int_equal(get(tk, D20, "resp_30s"), 0);
        assert_int_equal(get(tk, D20, "resp_60s"), 0);
        assert_int_equal(get(tk, D20, "resp_3m"), 2);
    }
    assert_int_equal(agent(tk, "a1", D20, "first_resp_ms_sum"), 90000);
    assert_int_equal(agent(tk, "a2", D20, "first_resp_ms_sum"), 90001);
    assert_int_equal(agent(tk, "a2", D20, "first_resp_n"), 1);
    assert_int_equal(agent(tk, "a2", D20, "rounds_answered"), 1);
    assert_int_equal(csm_testkit_alert_count(tk, "s1", "FIRST_RESPONSE_TIMEOUT"), 1);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 1);
    check_alert(tk, "FIRST_RESPONSE_TIMEOUT", "c2", AT(11, 0, 0), "a2", AT(11, 0, 10),
                AT(11, 2, 10), 120000);
    csm_testkit_free(tk);
}

/* Queueing counts: request 10:00:00 (opens the session), assigned a1 at
 * 10:03:00, reply 10:03:20: 200 s after the request → no first_reply_2m;
 * FIRST_RESPONSE_TIMEOUT at 10:02:00 with no agent yet. first_resp =
 * 20 000. No customer message was waiting: no round. */
static void test_queue_over_two_minutes(void **state)
{
    (void)state;
    csm_testkit *tk = start(CHAIN);
    EV("c1", AT(10, 0, 0), HUMAN_REQ);
    EV("c1", AT(10, 3, 0), ASSIGN("a1"));
    EV("c1", AT(10, 3, 20), MSG_A("a1"));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "human_requested"), 1);
    assert_int_equal(board(tk, D20, "first_reply_2m"), 0);
    assert_int_equal(board(tk, D20, "first_resp_ms_sum"), 20000);
    assert_int_equal(board(tk, D20, "first_resp_n"), 1);
    assert_int_equal(board(tk, D20, "rounds"), 0);
    assert_int_equal(agent(tk, "a1", D20, "first_resp_ms_sum"), 20000);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 1);
    check_alert(tk, "FIRST_RESPONSE_TIMEOUT", "c1", AT(10, 0, 0), "", AT(10, 0, 0), AT(10, 2, 0),
                120000);
    csm_testkit_free(tk);
}

/* Welcome and auto-replies only: message 10:00, request 10:00:05, assigned
 * a1 10:00:10 (round opens: the message waits), WELCOME 10:00:11, message
 * 10:00:30 (round already open), AUTO_REPLY 10:00:31, closed 10:05.
 * No first reply, no first response; 1 round, unanswered (a1). Alerts:
 * FIRST_RESPONSE_TIMEOUT at 10:02:05; RESPONSE_TIMEOUT at 10:00:10 + 180 s
 * = 10:03:10, anchor 10:00:10, figure 180 000; both with agent a1. */
static void test_auto_replies_only(void **state)
{
    (void)state;
    csm_testkit *tk = start(CHAIN);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 5), HUMAN_REQ);
    EV("c1", AT(10, 0, 10), ASSIGN("a1"));
    EV("c1", AT(10, 0, 11), MSG_K("WELCOME", "a1"));
    EV("c1", AT(10, 0, 30), MSG_C);
    EV("c1", AT(10, 0, 31), MSG_K("AUTO_REPLY", "a1"));
    EV("c1", AT(10, 5, 0), CLOSED("AGENT"));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "first_reply_2m"), 0);
    assert_int_equal(board(tk, D20, "first_resp_n"), 0);
    assert_int_equal(board(tk, D20, "rounds"), 1);
    assert_int_equal(board(tk, D20, "rounds_answered"), 0);
    assert_int_equal(board(tk, D20, "resp_3m"), 0);
    assert_int_equal(agent(tk, "a1", D20, "rounds"), 1);
    assert_int_equal(agent(tk, "a1", D20, "rounds_answered"), 0);
    assert_int_equal(agent(tk, "a1", D20, "first_resp_n"), 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 2);
    check_alert(tk, "FIRST_RESPONSE_TIMEOUT", "c1", AT(10, 0, 0), "a1", AT(10, 0, 5), AT(10, 2, 5),
                120000);
    check_alert(tk, "RESPONSE_TIMEOUT", "c1", AT(10, 0, 0), "a1", AT(10, 0, 10), AT(10, 3, 10),
                180000);
    csm_testkit_free(tk);
}

/* Transfer; a round answered by another agent; an unanswered round.
 * 10:00:00 message, 10:00:05 request, 10:00:10 assigned a1 (round 1 opens),
 * 10:00:20 a1 replies: round 1 = 10 s (30s/60s/3m) to a1; first reply
 * 15 s; first_resp 10 s (shop and a1). 10:01:00 message (round 2),
 * 10:01:10 transferred a1 → a2, 10:01:50 a2 replies: round 2 = 50 s
 * (60s/3m) to a2; a2 first_resp 40 s. 10:02:00 message (round 3),
 * 10:02:40 a1 replies: any agent answers, 40 s (60s/3m), to the session's
 * agent a2; a1's first response was already counted. 10:03:00 message
 * (round 4), closed 10:04:00: unanswered, to a2.
 * Shop: rounds 4, answered 3, resp_ms_sum 100 000, 30s 1, 60s 3, 3m 3.
 * a1: rounds 1/1, 10 000, 30s 1, 60s 1, 3m 1, first_resp 10 000 / 1.
 * a2: rounds 3, answered 2, 90 000, 30s 0, 60s 2, 3m 2, first_resp
 * 40 000 / 1. No alerts (round 4 closed after 60 s). */
static void test_transfer_and_other_agent(void **state)
{
    (void)state;
    csm_testkit *tk = start(CHAIN);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 5), HUMAN_REQ);
    EV("c1", AT(10, 0, 10), ASSIGN("a1"));
    EV("c1", AT(10, 0, 20), MSG_A("a1"));
    EV("c1", AT(10, 1, 0), MSG_C);
    EV("c1", AT(10, 1, 10), TRANSFER("a1", "a2"));
    EV("c1", AT(10, 1, 50), MSG_A("a2"));
    EV("c1", AT(10, 2, 0), MSG_C);
    EV("c1", AT(10, 2, 40), MSG_A("a1"));
    EV("c1", AT(10, 3, 0), MSG_C);
    EV("c1", AT(10, 4, 0), CLOSED("AGENT"));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "first_reply_2m"), 1);
    assert_int_equal(board(tk, D20, "first_resp_ms_sum"), 10000);
    assert_int_equal(board(tk, D20, "first_resp_n"), 1);
    assert_int_equal(board(tk, D20, "rounds"), 4);
    assert_int_equal(board(tk, D20, "rounds_answered"), 3);
    assert_int_equal(board(tk, D20, "resp_ms_sum"), 100000);
    assert_int_equal(board(tk, D20, "resp_30s"), 1);
    assert_int_equal(board(tk, D20, "resp_60s"), 3);
    assert_int_equal(board(tk, D20, "resp_3m"), 3);
    assert_int_equal(agent(tk, "a1", D20, "assigned"), 1);
    assert_int_equal(agent(tk, "a1", D20, "rounds"), 1);
    assert_int_equal(agent(tk, "a1", D20, "rounds_answered"), 1);
    assert_int_equal(agent(tk, "a1", D20, "resp_ms_sum"), 10000);
    assert_int_equal(agent(tk, "a1", D20, "resp_30s"), 1);
    assert_int_equal(agent(tk, "a1", D20, "resp_60s"), 1);
    assert_int_equal(agent(tk, "a1", D20, "resp_3m"), 1);
    assert_int_equal(agent(tk, "a1", D20, "first_resp_ms_sum"), 10000);
    assert_int_equal(agent(tk, "a1", D20, "first_resp_n"), 1);
    assert_int_equal(agent(tk, "a2", D20, "assigned"), 1);
    assert_int_equal(agent(tk, "a2", D20, "rounds"), 3);
    assert_int_equal(agent(tk, "a2", D20, "rounds_answered"), 2);
    assert_int_equal(agent(tk, "a2", D20, "resp_ms_sum"), 90000);
    assert_int_equal(agent(tk, "a2", D20, "resp_30s"), 0);
    assert_int_equal(agent(tk, "a2", D20, "resp_60s"), 2);
    assert_int_equal(agent(tk, "a2", D20, "resp_3m"), 2);
    assert_int_equal(agent(tk, "a2", D20, "first_resp_ms_sum"), 40000);
    assert_int_equal(agent(tk, "a2", D20, "first_resp_n"), 1);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 0);
    csm_testkit_free(tk);
}

/* RESPONSE_TIMEOUT exactly once, and not for a reply at the deadline.
 * Request 10:00:00 (opens), assigned a1 10:00:10, a1 replies 10:00:20
 * (first reply; no round: nothing waited). Message 10:01:00 (round 1),
 * reply 10:04:00.000 = open + 180 000: no alert, resp_3m. Message
 * 10:05:00 (round 2), reply 10:08:00.001: alert at 10:08:00.000, anchor
 * 10:05:00. Message 10:10:00 (round 3) never answered: no second alert;
 * the session is blocked, so it closes at max_open (10:00 next day) and
 * the round counts unanswered. Shop: rounds 3, answered 2, resp_ms_sum
 * 360 001, resp_3m 1. */
static void test_response_timeout_once(void **state)
{
    (void)state;
    csm_testkit *tk = start(CHAIN);
    EV("c1", AT(10, 0, 0), HUMAN_REQ);
    EV("c1", AT(10, 0, 10), ASSIGN("a1"));
    EV("c1", AT(10, 0, 20), MSG_A("a1"));
    EV("c1", AT(10, 1, 0), MSG_C);
    EV("c1", AT(10, 4, 0), MSG_A("a1"));
    EV("c1", AT(10, 5, 0), MSG_C);
    EV("c1", AT(10, 8, 0) + 1, MSG_A("a1"));
    EV("c1", AT(10, 10, 0), MSG_C);
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "rounds"), 3);
    assert_int_equal(board(tk, D20, "rounds_answered"), 2);
    assert_int_equal(board(tk, D20, "resp_ms_sum"), 360001);
    assert_int_equal(board(tk, D20, "resp_3m"), 1);
    assert_int_equal(agent(tk, "a1", D20, "rounds"), 3);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "RESPONSE_TIMEOUT"), 1);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 1);
    check_alert(tk, "RESPONSE_TIMEOUT", "c1", AT(10, 0, 0), "a1", AT(10, 5, 0), AT(10, 8, 0),
                180000);
    csm_testkit_free(tk);
}

/* FIRST_RESPONSE_TIMEOUT after the session closed, and NOT_PICKED_UP at
 * midnight: request 22:00:00 (opens), closed 22:00:30. Alerts at 22:02:00
 * (figure 120 000) and at 2026-11-21 00:00 (anchor 22:00, figure 2 h).
 * A configured first_response_timeout of 30s moves the first one. */
static void test_alerts_after_close_and_midnight(void **state)
{
    (void)state;
    csm_testkit *tk = start("plugins:\n  - session\n  - name: sla\n"
                            "    first_response_timeout: 30s\n");
    EV("c1", AT(22, 0, 0), HUMAN_REQ);
    EV("c1", AT(22, 0, 30), CLOSED("CUSTOMER"));
    csm_testkit_end(tk);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 2);
    check_alert(tk, "FIRST_RESPONSE_TIMEOUT", "c1", AT(22, 0, 0), "", AT(22, 0, 0), AT(22, 0, 30),
                30000);
    check_alert(tk, "NOT_PICKED_UP", "c1", AT(22, 0, 0), "", AT(22, 0, 0), AT(24, 0, 0), HRS(2));
    /* The figure threshold stays 120 s: no reply at all, so no count. */
    assert_int_equal(board(tk, D20, "first_reply_2m"), 0);
    csm_testkit_free(tk);
}

/* NOT_PICKED_UP at the OFFLINE_MESSAGE (10:01, figure 60 000), not again
 * at midnight; FIRST_RESPONSE_TIMEOUT at 10:02 still comes. */
static void test_not_picked_up_offline(void **state)
{
    (void)state;
    csm_testkit *tk = start(CHAIN);
    EV("c1", AT(10, 0, 0), HUMAN_REQ);
    EV("c1", AT(10, 1, 0), OFFLINE);
    EV("c1", AT(10, 3, 0), CLOSED("SYSTEM"));
    csm_testkit_end(tk);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "NOT_PICKED_UP"), 1);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 2);
    check_alert(tk, "NOT_PICKED_UP", "c1", AT(10, 0, 0), "", AT(10, 0, 0), AT(10, 1, 0), MIN(1));
    check_alert(tk, "FIRST_RESPONSE_TIMEOUT", "c1", AT(10, 0, 0), "", AT(10, 0, 0), AT(10, 2, 0),
                120000);
    csm_testkit_free(tk);
}

/* Assigned exactly at the next midnight: the event at the deadline comes
 * first, so no NOT_PICKED_UP. Message 23:49, request 23:50, assigned a1
 * at 00:00:00.000 (D21, another day: not in `assigned`, so no shop
 * first_resp), reply 00:00:20. The round opens at the assignment (the
 * 23:49 message waits) on D21 at 00:00, outside the window: all-day only,
 * 20 s. a1's own first response: 20 000 on D21. FIRST_RESPONSE_TIMEOUT at
 * 23:52 (no agent yet). */
static void test_assigned_at_midnight(void **state)
{
    (void)state;
    csm_testkit *tk = start(CHAIN);
    EV("c1", AT(23, 49, 0), MSG_C);
    EV("c1", AT(23, 50, 0), HUMAN_REQ);
    EV("c1", AT(24, 0, 0), ASSIGN("a1"));
    EV("c1", AT(24, 0, 20), MSG_A("a1"));
    csm_testkit_end(tk);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, "NOT_PICKED_UP"), 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 1);
    check_alert(tk, "FIRST_RESPONSE_TIMEOUT", "c1", AT(23, 49, 0), "", AT(23, 50, 0), AT(23, 52, 0),
                120000);
    assert_int_equal(allday(tk, D20, "human_requested"), 1);
    assert_int_equal(allday(tk, D20, "assigned"), 0);
    assert_int_equal(allday(tk, D20, "first_resp_n"), 0);
    assert_int_equal(allday(tk, D21, "first_resp_n"), 0);
    assert_int_equal(board(tk, D21, "rounds"), 0);
    assert_int_equal(allday(tk, D21, "rounds"), 1);
    assert_int_equal(allday(tk, D21, "rounds_answered"), 1);
    assert_int_equal(allday(tk, D21, "resp_ms_sum"), 20000);
    assert_int_equal(allday(tk, D21, "resp_30s"), 1);
    assert_int_equal(agent(tk, "a1", D21, "first_resp_ms_sum"), 20000);
    assert_int_equal(agent(tk, "a1", D21, "first_resp_n"), 1);
    assert_int_equal(agent(tk, "a1", D21, "rounds"), 1);
    csm_testkit_free(tk);
}

/* Robot-only sessions and replies before the request: a human reply at
 * 10:00:05 (before the request at 10:00:10) is not "after the request";
 * the reply at 10:01:00 is 50 s after it → first_reply_2m 1. Never
 * assigned: no rounds, no first_resp; NOT_PICKED_UP at midnight. */
static void test_reply_before_request(void **state)
{
    (void)state;
    csm_testkit *tk = start(CHAIN);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 5), MSG_A("a9"));
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 30), MSG_C);
    EV("c1", AT(10, 1, 0), MSG_A("a9"));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "first_reply_2m"), 1);
    assert_int_equal(board(tk, D20, "rounds"), 0);
    assert_int_equal(board(tk, D20, "first_resp_n"), 0);
    assert_int_equal(agent(tk, "a9", D20, "first_resp_n"), 0);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 1);
    check_alert(tk, "NOT_PICKED_UP", "c1", AT(10, 0, 0), "", AT(10, 0, 10), AT(24, 0, 0),
                HRS(14) - SEC(10));
    csm_testkit_free(tk);
}

/* The record of a session is created at its request (or first
 * assignment), not at its opening; what waited before is taken from the
 * view's `unanswered`. Each event is applied once the next, 10 s or more
 * later, moves event time past it by the 5 s lateness.
 * c1: message 10:00:00, reply a1 10:00:20, message 10:00:30 (waiting),
 * request 10:01:00, assigned a1 10:01:10: the 10:00:30 message waits, so a
 * round opens at 10:01:10, answered at 10:02:10 after 60 000 ms (resp_60s
 * and resp_3m, not resp_30s).
 * c2: message 11:00:00, reply a1 11:00:20, request 11:01:00, assigned
 * 11:01:10: nothing waits, no round; the reply 11:02:10 answers none.
 * Shop, D20: rounds 1, answered 1, resp_ms_sum 60 000. Entries: c1's
 * session record alone until its request is applied, then its SLA record
 * too; by c2's first message c1's session closed idle (last customer
 * event, the request at 10:01:00, + 15 min) and its SLA record went with
 * it, so c1's and c2's session records are left. No alert: both replies come within
 * 120 s of the request, both sessions are assigned, the round is answered
 * within 180 s. */
static void test_record_at_request(void **state)
{
    (void)state;
    csm_testkit *tk = start(CHAIN);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 20), MSG_A("a1"));
    EV("c1", AT(10, 0, 30), MSG_C);
    EV("c1", AT(10, 1, 0), HUMAN_REQ);
    assert_int_equal(csm_testkit_state_entries(tk), 1);
    EV("c1", AT(10, 1, 10), ASSIGN("a1"));
    assert_int_equal(csm_testkit_state_entries(tk), 2);
    EV("c1", AT(10, 2, 10), MSG_A("a1"));
    EV("c2", AT(11, 0, 0), MSG_C);
    EV("c2", AT(11, 0, 20), MSG_A("a1"));
    assert_int_equal(csm_testkit_state_entries(tk), 2);
    EV("c2", AT(11, 1, 0), HUMAN_REQ);
    EV("c2", AT(11, 1, 10), ASSIGN("a1"));
    EV("c2", AT(11, 2, 10), MSG_A("a1"));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "rounds"), 1);
    assert_int_equal(board(tk, D20, "rounds_answered"), 1);
    assert_int_equal(board(tk, D20, "resp_ms_sum"), 60000);
    assert_int_equal(board(tk, D20, "resp_30s"), 0);
    assert_int_equal(board(tk, D20, "resp_60s"), 1);
    assert_int_equal(board(tk, D20, "resp_3m"), 1);
    assert_int_equal(csm_testkit_alert_count(tk, NULL, NULL), 0);
    csm_testkit_free(tk);
}

/* A bad configuration value is refused. */
static void test_bad_config(void **state)
{
    (void)state;
    char err[512];
    csm_testkit *tk = csm_testkit_new("plugins:\n  - session\n  - name: sla\n"
                                      "    response_timeout: 0s\n",
                                      err, sizeof err);
    assert_null(tk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_reply_exact_threshold),
        cmocka_unit_test(test_queue_over_two_minutes),
        cmocka_unit_test(test_auto_replies_only),
        cmocka_unit_test(test_transfer_and_other_agent),
        cmocka_unit_test(test_response_timeout_once),
        cmocka_unit_test(test_alerts_after_close_and_midnight),
        cmocka_unit_test(test_not_picked_up_offline),
        cmocka_unit_test(test_assigned_at_midnight),
        cmocka_unit_test(test_reply_before_request),
        cmocka_unit_test(test_record_at_request),
        cmocka_unit_test(test_bad_config),
    };
    return RUN_BOTH_WAYS(tests);
}
