/* The session builder through the test kit. Every expected figure is
 * worked out by hand from metrics.md ("Sessions", "Settled details") in
 * the comment above its assertions. The lifecycle is observed through
 * the test-only plugin session_probe (tests/probe.c), which writes each
 * derived event into the intent block "probe" of the session's opening
 * day. Times are shop-local (Asia/Shanghai, the default); T0 is
 * 2026-11-20T00:00:00+08:00. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "csmetrics/testkit.h"
#include "restart_mode.h"

#define T0 1795104000000LL /* 2026-11-20T00:00:00+08:00 */
#define D20 "2026-11-20"
#define D21 "2026-11-21"
#define SEC(x) ((int64_t)(x)*1000LL)
#define MIN(x) ((int64_t)(x)*60000LL)
#define HRS(x) ((int64_t)(x)*3600000LL)
#define AT(h, m, s) (T0 + HRS(h) + MIN(m) + SEC(s))

#define WITH_PROBE "plugins:\n  - session\n  - session_probe\n"

#define MSG_C "\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\",\"msg_kind\":\"TEXT\""
#define MSG_A(a)                                                                                   \
    "\"type\":\"MESSAGE\",\"sender\":\"AGENT\",\"msg_kind\":\"TEXT\",\"agent_id\":\"" a "\""
#define MSG_K(sender, kind)                                                                        \
    "\"type\":\"MESSAGE\",\"sender\":\"" sender "\",\"msg_kind\":\"" kind "\""
#define HUMAN_REQ "\"type\":\"HUMAN_REQUESTED\""
#define ASSIGN(a) "\"type\":\"ASSIGNED\",\"agent_id\":\"" a "\""
#define TRANSFER(from, to)                                                                         \
    "\"type\":\"TRANSFERRED\",\"from_agent_id\":\"" from "\",\"agent_id\":\"" to "\""
#define CLOSED(why) "\"type\":\"SESSION_CLOSED\",\"reason\":\"" why "\""
#define RATED(n) "\"type\":\"RATED\",\"stars\":" #n
#define INVITED "\"type\":\"RATING_INVITED\",\"reason\":\"SYSTEM_AUTO\""

static long next_id;

static int feed_at(csm_testkit *tk, const char *shop, const char *cust, int64_t ts,
                   const char *fields)
{
    char line[1024];
    snprintf(
        line, sizeof line,
        "{\"stream\":\"chat\",\"event_id\":\"e%ld\",\"platform\":\"DOUYIN\",\"shop_id\":\"%s\","
        "\"customer_id\":\"%s\",\"ts\":%lld,%s}",
        ++next_id, shop, cust, (long long)ts, fields);
    return feed_line(tk, line);
}

static int feed_paid(csm_testkit *tk, const char *shop, const char *cust, int64_t ts)
{
    char line[512];
    long id = ++next_id;
    snprintf(
        line, sizeof line,
        "{\"stream\":\"order\",\"event_id\":\"o%ld\",\"platform\":\"DOUYIN\",\"shop_id\":\"%s\","
        "\"customer_id\":\"%s\",\"ts\":%lld,\"order_id\":\"ord%ld\",\"type\":\"PAID\"}",
        id, shop, cust, (long long)ts, id);
    return feed_line(tk, line);
}

#define EV(cust, ts, fields) assert_int_equal(feed_at(tk, "s1", cust, ts, fields), CSM_TK_ACCEPTED)

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
static int64_t probe(csm_testkit *tk, const char *day, const char *f)
{
    return csm_testkit_counter(tk, "intent:probe", "s1", day, f);
}
static int64_t agent(csm_testkit *tk, const char *id, const char *day)
{
    char block[64];
    snprintf(block, sizeof block, "agent:%s", id);
    return csm_testkit_counter(tk, block, "s1", day, "assigned");
}

/* One customer message at 10:00 opens a customer-initiated session; with
 * nothing else it closes for idleness at 10:15. */
static void test_open_and_idle_close(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_C);
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 1);
    assert_int_equal(board(tk, D20, "hourly.sessions_started.10"), 1);
    assert_int_equal(allday(tk, D20, "sessions_started"), 1);
    assert_int_equal(allday(tk, D20, "hourly.sessions_started.10"), 1);
    assert_int_equal(board(tk, D20, "human_requested"), 0);
    assert_int_equal(probe(tk, D20, "opened"), 1);
    assert_int_equal(probe(tk, D20, "customer_message"), 1);
    assert_int_equal(probe(tk, D20, "closed.IDLE"), 1);
    assert_int_equal(probe(tk, D20, "close_ms"), MIN(15));
    assert_int_equal(probe(tk, D20, "merchant"), 0);
    assert_int_equal(probe(tk, D20, "bad_view"), 0);
    csm_testkit_free(tk);
}

/* 10:00 opens; 10:15:00.000 is exactly last + 15 min: the event is applied
 * before the timer, so it stays in the session and restarts the clock;
 * 10:30:00.001 comes after the deadline 10:30:00.000, so the first
 * session closed at 10:30:00.000 and this one opens a second session,
 * which closes at 10:45:00.001. close_ms = 30 min + 15 min. */
static void test_idle_exact_deadline(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 15, 0), MSG_C);
    EV("c1", AT(10, 30, 0) + 1, MSG_C);
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 2);
    assert_int_equal(board(tk, D20, "hourly.sessions_started.10"), 2);
    assert_int_equal(probe(tk, D20, "closed.IDLE"), 2);
    assert_int_equal(probe(tk, D20, "close_ms"), MIN(30) + MIN(15));
    assert_int_equal(probe(tk, D20, "max_id"), 2);
    assert_int_equal(probe(tk, D20, "bad_view"), 0);
    csm_testkit_free(tk);
}

/* Human-served and unanswered: no idle close. Open 10:00, request
 * 10:00:10, assigned 10:00:30 (queue 20 s), customer message 10:01, human
 * reply only at 10:40. The idle deadline 10:16 passes while blocked; the
 * reply at 10:40 lifts the block: close at max(10:01 + 15 min, 10:40) =
 * 10:40, 40 min after the opening. */
static void test_no_auto_close_until_reply(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 30), ASSIGN("a1"));
    EV("c1", AT(10, 1, 0), MSG_C);
    EV("c1", AT(10, 40, 0), MSG_A("a1"));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 1);
    assert_int_equal(board(tk, D20, "human_requested"), 1);
    assert_int_equal(board(tk, D20, "hourly.human_requested.10"), 1);
    assert_int_equal(board(tk, D20, "assigned"), 1);
    assert_int_equal(board(tk, D20, "queue_ms_sum"), SEC(20));
    assert_int_equal(allday(tk, D20, "assigned"), 1);
    assert_int_equal(allday(tk, D20, "queue_ms_sum"), SEC(20));
    assert_int_equal(agent(tk, "a1", D20), 1);
    assert_int_equal(probe(tk, D20, "closed.IDLE"), 1);
    assert_int_equal(probe(tk, D20, "close_ms"), MIN(40));
    assert_int_equal(probe(tk, D20, "closed_agent.a1"), 1);
    assert_int_equal(probe(tk, D20, "first_reply_ms"), MIN(40));
    assert_int_equal(probe(tk, D20, "queue_ms"), SEC(20));
    assert_int_equal(probe(tk, D20, "bad_view"), 0);
    csm_testkit_free(tk);
}

/* As above but the reply comes at 10:10, before the idle deadline: the
 * session closes at max(10:01 + 15 min, 10:10) = 10:16. */
static void test_reply_before_deadline(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 30), ASSIGN("a1"));
    EV("c1", AT(10, 1, 0), MSG_C);
    EV("c1", AT(10, 10, 0), MSG_A("a1"));
    csm_testkit_end(tk);
    assert_int_equal(probe(tk, D20, "closed.IDLE"), 1);
    assert_int_equal(probe(tk, D20, "close_ms"), MIN(16));
    csm_testkit_free(tk);
}

/* Blocked for good: welcome and auto-replies are no human reply, so the
 * session stays open until max_open, 24 h after 10:00. */
static void test_blocked_until_max_open(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 30), ASSIGN("a1"));
    EV("c1", AT(10, 0, 31), MSG_K("AGENT", "WELCOME"));
    EV("c1", AT(10, 1, 0), MSG_C);
    EV("c1", AT(10, 1, 5), MSG_K("AGENT", "AUTO_REPLY"));
    csm_testkit_end(tk);
    assert_int_equal(probe(tk, D20, "auto_message"), 2);
    assert_int_equal(probe(tk, D20, "human_reply"), 0);
    assert_int_equal(probe(tk, D20, "closed.MAX_OPEN"), 1);
    assert_int_equal(probe(tk, D20, "close_ms"), HRS(24));
    assert_int_equal(probe(tk, D20, "bad_view"), 0);
    csm_testkit_free(tk);
}

/* A customer message from the robot phase that no human answered still
 * blocks once the session is assigned (its last customer message is
 * unanswered by a human): open until max_open. */
static void test_robot_phase_message_blocks(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 5), MSG_K("ROBOT", "TEXT"));
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 30), ASSIGN("a1"));
    csm_testkit_end(tk);
    assert_int_equal(probe(tk, D20, "closed.MAX_OPEN"), 1);
    assert_int_equal(probe(tk, D20, "close_ms"), HRS(24));
    csm_testkit_free(tk);
}

/* Answered before going quiet: not blocked; the idle clock runs from the
 * last customer event, the request at 10:00:10, so close at 10:15:10. An
 * unassigned session (TRANSFERRED never assigns) is never blocked either:
 * c2's last message at 11:01 is unanswered, still closes at 11:16. */
static void test_not_blocked(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 30), ASSIGN("a1"));
    EV("c1", AT(10, 1, 0), MSG_A("a1"));
    EV("c2", AT(11, 0, 0), MSG_C);
    EV("c2", AT(11, 0, 10), HUMAN_REQ);
    EV("c2", AT(11, 0, 20), TRANSFER("a1", "a2"));
    EV("c2", AT(11, 1, 0), MSG_C);
    csm_testkit_end(tk);
    assert_int_equal(probe(tk, D20, "closed.IDLE"), 2);
    assert_int_equal(probe(tk, D20, "close_ms"), MIN(15) + SEC(10) + MIN(16));
    assert_int_equal(board(tk, D20, "human_requested"), 2);
    assert_int_equal(board(tk, D20, "assigned"), 1);
    assert_int_equal(board(tk, D20, "queue_ms_sum"), SEC(20));
    assert_int_equal(agent(tk, "a1", D20), 1);
    assert_int_equal(agent(tk, "a2", D20), 1);
    assert_int_equal(probe(tk, D20, "closed_agent.a2"), 1);
    csm_testkit_free(tk);
}

/* Only customer events move the idle clock: a robot message at 10:20 and
 * an agent message at 10:24 do not; the request at 10:10 does. Close at
 * 10:25, 25 min after the opening. */
static void test_idle_clock_customer_events_only(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_K("CUSTOMER", "EMOJI"));
    EV("c1", AT(10, 10, 0), HUMAN_REQ);
    EV("c1", AT(10, 20, 0), MSG_K("ROBOT", "TEXT"));
    EV("c1", AT(10, 24, 0), MSG_A("a1"));
    csm_testkit_end(tk);
    assert_int_equal(probe(tk, D20, "closed.IDLE"), 1);
    assert_int_equal(probe(tk, D20, "close_ms"), MIN(25));
    csm_testkit_free(tk);
}

/* max_open: a message every 10 min from 10:00 (day 20) to 12:00 (day 21),
 * k = 0..156. The one at exactly 10:00 of day 21 (k = 144, open + 24 h)
 * is still applied to the first session, which then closes (MAX_OPEN,
 * 24 h); k = 145 (10:10) opens the second session, closing idle at
 * 12:15, 2 h 05 min after it opened. */
static void test_max_open(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    for (int k = 0; k <= 156; k++)
        EV("c1", AT(10, 0, 0) + MIN(10) * k, MSG_C);
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 1);
    assert_int_equal(board(tk, D21, "sessions_started"), 1);
    assert_int_equal(board(tk, D21, "hourly.sessions_started.10"), 1);
    assert_int_equal(probe(tk, D20, "closed.MAX_OPEN"), 1);
    assert_int_equal(probe(tk, D20, "close_ms"), HRS(24));
    assert_int_equal(probe(tk, D20, "customer_message"), 145);
    assert_int_equal(probe(tk, D21, "closed.IDLE"), 1);
    assert_int_equal(probe(tk, D21, "close_ms"), HRS(2) + MIN(5));
    assert_int_equal(probe(tk, D21, "customer_message"), 12);
    csm_testkit_free(tk);
}

/* Merchant-initiated sessions: opened by an agent message of any kind
 * (c1 text, c4 welcome) or by entry MERCHANT_INITIATED (c2, on a customer
 * message); left out of sessions_started, not of human_requested. c3's
 * entry PRODUCT_PAGE is an ordinary customer-initiated session. The idle
 * clock of a merchant-initiated session starts at its opening. Closes:
 * c1 at 10:17 (request at 10:02), c2 11:15, c3 12:15, c4 13:15. */
static void test_merchant_initiated(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_A("a1"));
    EV("c1", AT(10, 1, 0), MSG_C);
    EV("c1", AT(10, 2, 0), HUMAN_REQ);
    EV("c2", AT(11, 0, 0), MSG_C ",\"entry\":\"MERCHANT_INITIATED\"");
    EV("c3", AT(12, 0, 0), MSG_C ",\"entry\":\"PRODUCT_PAGE\"");
    EV("c4", AT(13, 0, 0), MSG_K("AGENT", "WELCOME"));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 1);
    assert_int_equal(board(tk, D20, "hourly.sessions_started.12"), 1);
    assert_int_equal(board(tk, D20, "hourly.sessions_started.10"), 0);
    assert_int_equal(board(tk, D20, "human_requested"), 1);
    assert_int_equal(board(tk, D20, "hourly.human_requested.10"), 1);
    assert_int_equal(probe(tk, D20, "opened"), 4);
    assert_int_equal(probe(tk, D20, "merchant"), 3);
    assert_int_equal(probe(tk, D20, "human_reply"), 1);
    assert_int_equal(probe(tk, D20, "auto_message"), 1);
    assert_int_equal(probe(tk, D20, "closed.IDLE"), 4);
    assert_int_equal(probe(tk, D20, "close_ms"), MIN(17) + MIN(15) * 3);
    csm_testkit_free(tk);
}

/* Events that cannot open a session are ignored when none is open: no
 * per-agent count for the ASSIGNED/TRANSFERRED, no session. */
static void test_ignored_without_session(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), ASSIGN("a1"));
    EV("c1", AT(10, 0, 1), TRANSFER("a1", "a2"));
    EV("c1", AT(10, 0, 2), CLOSED("AGENT"));
    EV("c1", AT(10, 0, 3), MSG_K("ROBOT", "TEXT"));
    EV("c1", AT(10, 0, 4), MSG_K("SYSTEM", "OTHER"));
    EV("c1", AT(10, 0, 5), "\"type\":\"OFFLINE_MESSAGE\",\"reason\":\"ALL_BUSY\"");
    EV("c1", AT(10, 0, 6), INVITED);
    EV("c1", AT(10, 0, 7), RATED(5));
    EV("c1", AT(10, 0, 8), "\"type\":\"AGENT_STATUS\",\"agent_id\":\"a1\",\"reason\":\"ONLINE\"");
    csm_testkit_end(tk);
    assert_int_equal(agent(tk, "a1", D20), 0);
    assert_int_equal(agent(tk, "a2", D20), 0);
    assert_int_equal(allday(tk, D20, "sessions_started"), 0);
    assert_int_equal(probe(tk, D20, "opened"), 0);
    assert_int_equal(probe(tk, D20, "rated"), 0);
    csm_testkit_free(tk);
}

/* Day boundary: c1 asks for a human at 23:58:30 and is assigned at 00:01
 * the next shop-local day: human_requested on day 20 (all-day only, 23:58
 * is outside 08:00-23:00), assigned never (not the same day), the agent's
 * assignment on day 21. c2 is requested at 22:50:30 and assigned 30 s
 * later: counted everywhere. */
static void test_assigned_next_day(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c2", AT(22, 50, 0), MSG_C);
    EV("c2", AT(22, 50, 30), HUMAN_REQ);
    EV("c2", AT(22, 51, 0), ASSIGN("a2"));
    EV("c1", AT(23, 58, 0), MSG_C);
    EV("c1", AT(23, 58, 30), HUMAN_REQ);
    EV("c1", AT(24, 1, 0), ASSIGN("a1"));
    EV("c1", AT(24, 1, 30), MSG_A("a1"));
    csm_testkit_end(tk);
    assert_int_equal(allday(tk, D20, "sessions_started"), 2);
    assert_int_equal(allday(tk, D20, "hourly.sessions_started.22"), 1);
    assert_int_equal(allday(tk, D20, "hourly.sessions_started.23"), 1);
    assert_int_equal(allday(tk, D20, "human_requested"), 2);
    assert_int_equal(allday(tk, D20, "hourly.human_requested.23"), 1);
    assert_int_equal(allday(tk, D20, "assigned"), 1);
    assert_int_equal(allday(tk, D20, "queue_ms_sum"), SEC(30));
    assert_int_equal(board(tk, D20, "sessions_started"), 1);
    assert_int_equal(board(tk, D20, "human_requested"), 1);
    assert_int_equal(board(tk, D20, "hourly.human_requested.22"), 1);
    assert_int_equal(board(tk, D20, "assigned"), 1);
    assert_int_equal(board(tk, D20, "queue_ms_sum"), SEC(30));
    assert_int_equal(allday(tk, D21, "assigned"), 0);
    assert_int_equal(agent(tk, "a1", D20), 0);
    assert_int_equal(agent(tk, "a1", D21), 1);
    assert_int_equal(agent(tk, "a2", D20), 1);
    /* The session itself is assigned (queue 2 min 30 s), only not counted. */
    assert_int_equal(probe(tk, D20, "queue_ms"), SEC(30) + MIN(2) + SEC(30));
    csm_testkit_free(tk);
}

/* Agents: ASSIGNED before the request changes the agent and counts for it
 * but does not make the session assigned; the ASSIGNED after the request
 * does (queue 30 s). A TRANSFERRED counts for its new agent; an ASSIGNED
 * without agent_id changes no agent and counts for nobody. */
static void test_agents(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 5), ASSIGN("a1"));
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 40), ASSIGN("a1"));
    EV("c1", AT(10, 0, 50), TRANSFER("a1", "a2"));
    EV("c1", AT(10, 0, 55), "\"type\":\"ASSIGNED\"");
    EV("c1", AT(10, 1, 0), MSG_A("a2"));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "assigned"), 1);
    assert_int_equal(board(tk, D20, "queue_ms_sum"), SEC(30));
    assert_int_equal(agent(tk, "a1", D20), 2);
    assert_int_equal(agent(tk, "a2", D20), 1);
    assert_int_equal(probe(tk, D20, "assigned"), 3);
    assert_int_equal(probe(tk, D20, "transferred"), 1);
    assert_int_equal(probe(tk, D20, "closed_agent.a2"), 1);
    assert_int_equal(probe(tk, D20, "bad_view"), 0);
    csm_testkit_free(tk);
}

/* A second HUMAN_REQUESTED is published but counted once. */
static void test_second_request(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(9, 0, 0), HUMAN_REQ);
    EV("c1", AT(9, 5, 0), HUMAN_REQ);
    EV("c1", AT(9, 6, 0), "\"type\":\"OFFLINE_MESSAGE\",\"reason\":\"NO_AGENT_ONLINE\"");
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 1);
    assert_int_equal(board(tk, D20, "human_requested"), 1);
    assert_int_equal(board(tk, D20, "hourly.human_requested.09"), 1);
    assert_int_equal(probe(tk, D20, "human_requested"), 2);
    assert_int_equal(probe(tk, D20, "offline_message"), 1);
    assert_int_equal(probe(tk, D20, "close_ms"), MIN(20));
    assert_int_equal(probe(tk, D20, "bad_view"), 0);
    csm_testkit_free(tk);
}

/* SESSION_CLOSED closes at its own ts; a customer message at the same ms
 * arriving after it opens a new session (closing idle 15 min later). */
static void test_session_closed(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 5, 0), CLOSED("CUSTOMER"));
    EV("c1", AT(10, 5, 0), MSG_C);
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 2);
    assert_int_equal(probe(tk, D20, "closed.CUSTOMER"), 1);
    assert_int_equal(probe(tk, D20, "closed.IDLE"), 1);
    assert_int_equal(probe(tk, D20, "close_ms"), MIN(5) + MIN(15));
    csm_testkit_free(tk);
}

/* Ratings: c1's invitation and rating after its close go to the closed
 * session; stars 0, null and 6 are ignored. c2 has no session: ignored.
 * c3 is rated while open. c4 is rated exactly 48 h after its close (kept),
 * c5 1 ms later (the closed session is no longer a target). Rated: c1 (4),
 * c3 (5), c4 (3). */
static void test_ratings(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 10), HUMAN_REQ);
    EV("c1", AT(10, 0, 20), ASSIGN("a1"));
    EV("c1", AT(10, 0, 30), MSG_A("a1"));
    EV("c1", AT(10, 5, 0), CLOSED("AGENT"));
    EV("c1", AT(10, 6, 0), INVITED);
    EV("c1", AT(10, 7, 0), RATED(0));
    EV("c1", AT(10, 8, 0), "\"type\":\"RATED\"");
    EV("c1", AT(10, 9, 0), RATED(6));
    EV("c1", AT(10, 10, 0), RATED(4));
    EV("c2", AT(10, 10, 0), RATED(5));
    EV("c3", AT(10, 10, 0), MSG_C);
    EV("c3", AT(10, 11, 0), INVITED);
    EV("c3", AT(10, 12, 0), RATED(5));
    EV("c4", AT(10, 20, 0), MSG_C);
    EV("c5", AT(10, 20, 0), MSG_C);
    EV("c4", AT(10, 35, 0) + HRS(48), RATED(3));
    EV("c5", AT(10, 35, 0) + HRS(48) + 1, RATED(2));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 4);
    assert_int_equal(probe(tk, D20, "rating_invited"), 2);
    assert_int_equal(probe(tk, D20, "rated"), 3);
    assert_int_equal(probe(tk, D20, "stars"), 4 + 5 + 3);
    assert_int_equal(probe(tk, D20, "rated_after_close"), 2);
    assert_int_equal(probe(tk, D20, "closed.AGENT"), 1);
    assert_int_equal(probe(tk, D20, "closed.IDLE"), 3);
    assert_int_equal(probe(tk, D20, "bad_view"), 0);
    csm_testkit_free(tk);
}

/* After-sale: opening day D = 2026-11-20; PAID on D-21 (c1, at its very
 * first ms) and D-1 (c4, last ms) make it after-sale; D-22 (c2, last ms),
 * D itself (c3, 09:00, before the session) and another shop's PAID (c5)
 * do not. max_event_age is raised so the 21-day-old PAIDs are accepted. */
static void test_aftersale(void **state)
{
    csm_testkit *tk = start("pipeline:\n  max_event_age: 30d\n" WITH_PROBE);
    assert_int_equal(feed_paid(tk, "s1", "c2", T0 - HRS(24 * 21) - 1), CSM_TK_ACCEPTED);
    assert_int_equal(feed_paid(tk, "s1", "c1", T0 - HRS(24 * 21)), CSM_TK_ACCEPTED);
    assert_int_equal(feed_paid(tk, "s2", "c5", T0 - HRS(12)), CSM_TK_ACCEPTED);
    assert_int_equal(feed_paid(tk, "s1", "c4", T0 - 1), CSM_TK_ACCEPTED);
    assert_int_equal(feed_paid(tk, "s1", "c3", AT(9, 0, 0)), CSM_TK_ACCEPTED);
    for (int i = 1; i <= 5; i++) {
        char c[8];
        snprintf(c, sizeof c, "c%d", i);
        EV(c, AT(10, 0, 0), MSG_C);
    }
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 5);
    assert_int_equal(probe(tk, D20, "aftersale"), 2);
    csm_testkit_free(tk);
}

/* aftersale_days: 1 keeps only D-1: c4 (PAID 23:59:59.999 on D-1) is
 * after-sale, c1 (PAID 00:00 on D-2) is not. */
static void test_aftersale_days_config(void **state)
{
    csm_testkit *tk = start("plugins:\n  - name: session\n    aftersale_days: 1\n"
                            "  - session_probe\n");
    assert_int_equal(feed_paid(tk, "s1", "c1", T0 - HRS(48)), CSM_TK_ACCEPTED);
    assert_int_equal(feed_paid(tk, "s1", "c4", T0 - 1), CSM_TK_ACCEPTED);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c4", AT(10, 0, 0), MSG_C);
    csm_testkit_end(tk);
    assert_int_equal(probe(tk, D20, "aftersale"), 1);
    csm_testkit_free(tk);
}

/* The first non-null intent sticks and is published once. */
static void test_intent(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 1, 0), MSG_C ",\"intent\":\"pre_sale/size\"");
    EV("c1", AT(10, 2, 0), MSG_C ",\"intent\":\"after_sale/refund\"");
    csm_testkit_end(tk);
    assert_int_equal(probe(tk, D20, "intent_set"), 1);
    assert_int_equal(probe(tk, D20, "intent.pre_sale/size"), 1);
    assert_int_equal(probe(tk, D20, "intent.after_sale/refund"), 0);
    assert_int_equal(probe(tk, D20, "bad_view"), 0);
    csm_testkit_free(tk);
}

/* Window 08:00-23:00, start <= t < end. */
static void test_window_edges(void **state)
{
    csm_testkit *tk = start(NULL);
    EV("c1", AT(8, 0, 0) - 1, MSG_C);
    EV("c2", AT(8, 0, 0), MSG_C);
    EV("c3", AT(23, 0, 0) - 1, MSG_C);
    EV("c4", AT(23, 0, 0), MSG_C);
    csm_testkit_end(tk);
    assert_int_equal(allday(tk, D20, "sessions_started"), 4);
    assert_int_equal(allday(tk, D20, "hourly.sessions_started.07"), 1);
    assert_int_equal(allday(tk, D20, "hourly.sessions_started.08"), 1);
    assert_int_equal(allday(tk, D20, "hourly.sessions_started.22"), 1);
    assert_int_equal(allday(tk, D20, "hourly.sessions_started.23"), 1);
    assert_int_equal(board(tk, D20, "sessions_started"), 2);
    assert_int_equal(board(tk, D20, "hourly.sessions_started.07"), 0);
    assert_int_equal(board(tk, D20, "hourly.sessions_started.08"), 1);
    assert_int_equal(board(tk, D20, "hourly.sessions_started.22"), 1);
    assert_int_equal(board(tk, D20, "hourly.sessions_started.23"), 0);
    csm_testkit_free(tk);
}

/* idle_close 5m, max_open 1h. c1: 10:00 and 10:05 (exactly the deadline,
 * stays), close 10:10. c2: every 4 min from 11:00 to 12:20; the message
 * at 12:00 (= open + 1 h) stays, the session closes MAX_OPEN at 12:00;
 * 12:04 opens the next one, closing idle at 12:25. */
static void test_configured_durations(void **state)
{
    csm_testkit *tk = start("plugins:\n  - name: session\n    idle_close: 5m\n    max_open: 1h\n"
                            "  - session_probe\n");
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 5, 0), MSG_C);
    for (int k = 0; k <= 20; k++)
        EV("c2", AT(11, 0, 0) + MIN(4) * k, MSG_C);
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 3);
    assert_int_equal(probe(tk, D20, "closed.IDLE"), 2);
    assert_int_equal(probe(tk, D20, "closed.MAX_OPEN"), 1);
    assert_int_equal(probe(tk, D20, "close_ms"), MIN(10) + HRS(1) + MIN(21));
    csm_testkit_free(tk);
}

/* Arrival out of order by up to 5 s gives the figures of the sorted
 * events: sorted, c1 opens at 10:00:00 with a message, asks at 10:00:04,
 * gets a human reply at 10:00:07 and is assigned at 10:00:09 (queue 5 s),
 * writes at 10:00:20, is answered at 10:00:22 and closes at 10:15:20. */
static void test_reorder_within_lateness(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    EV("c1", AT(10, 0, 4), HUMAN_REQ);
    EV("c1", AT(10, 0, 0), MSG_C);
    EV("c1", AT(10, 0, 9), ASSIGN("a1"));
    EV("c1", AT(10, 0, 7), MSG_A("a1"));
    EV("c1", AT(10, 0, 20), MSG_C);
    EV("c1", AT(10, 0, 22), MSG_A("a1"));
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 1);
    assert_int_equal(probe(tk, D20, "opened"), 1);
    assert_int_equal(probe(tk, D20, "first_reply_ms"), SEC(7));
    assert_int_equal(board(tk, D20, "queue_ms_sum"), SEC(5));
    assert_int_equal(probe(tk, D20, "close_ms"), MIN(15) + SEC(20));
    assert_int_equal(probe(tk, D20, "bad_view"), 0);
    csm_testkit_free(tk);
}

/* The same event_id twice counts once; an event more than 5 s behind the
 * partition's event time is late and not applied. */
static void test_duplicate_and_late(void **state)
{
    csm_testkit *tk = start(WITH_PROBE);
    const char *msg = "{\"stream\":\"chat\",\"event_id\":\"dup\",\"platform\":\"DOUYIN\","
                      "\"shop_id\":\"s1\",\"customer_id\":\"c1\",\"ts\":1795140000000,"
                      "\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\",\"msg_kind\":\"TEXT\"}";
    assert_int_equal(feed_line(tk, msg), CSM_TK_ACCEPTED);
    assert_int_equal(feed_line(tk, msg), CSM_TK_DUPLICATE);
    EV("c2", AT(10, 0, 10), MSG_C);
    assert_int_equal(feed_at(tk, "s1", "c3", AT(10, 0, 5) - 1, MSG_C), CSM_TK_LATE);
    EV("c4", AT(10, 0, 5), MSG_C);
    csm_testkit_end(tk);
    assert_int_equal(board(tk, D20, "sessions_started"), 3);
    assert_int_equal(probe(tk, D20, "customer_message"), 3);
    csm_testkit_free(tk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_idle_close),
        cmocka_unit_test(test_idle_exact_deadline),
        cmocka_unit_test(test_no_auto_close_until_reply),
        cmocka_unit_test(test_reply_before_deadline),
        cmocka_unit_test(test_blocked_until_max_open),
        cmocka_unit_test(test_robot_phase_message_blocks),
        cmocka_unit_test(test_not_blocked),
        cmocka_unit_test(test_idle_clock_customer_events_only),
        cmocka_unit_test(test_max_open),
        cmocka_unit_test(test_merchant_initiated),
        cmocka_unit_test(test_ignored_without_session),
        cmocka_unit_test(test_assigned_next_day),
        cmocka_unit_test(test_agents),
        cmocka_unit_test(test_second_request),
        cmocka_unit_test(test_session_closed),
        cmocka_unit_test(test_ratings),
        cmocka_unit_test(test_aftersale),
        cmocka_unit_test(test_aftersale_days_config),
        cmocka_unit_test(test_intent),
        cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_configured_durations),
        cmocka_unit_test(test_reorder_within_lateness),
        cmocka_unit_test(test_duplicate_and_late),
    };
    return RUN_BOTH_WAYS(tests);
}
