/* Every test-kit test of a plugin, run a second time with a restart as
 * after kill -9 after each event offered (csm_testkit_restart(): a
 * checkpoint of what changed since the previous one, then a fresh engine
 * loaded from every checkpoint so far). That puts restarts mid-session,
 * with idle, max_open and SLA timers pending, after closes and before the
 * end, and the tests' figures, worked out by hand from metrics.md, must
 * come out the same. Shared by the tests of session, sla and unserved;
 * include after cmocka and testkit.h. */
#ifndef RESTART_MODE_H
#define RESTART_MODE_H

#include "csmetrics/testkit.h"

static int restart_each_event;

/* csm_testkit_feed(), then the restart when the mode is on. */
static int feed_line(csm_testkit *tk, const char *line)
{
    int verdict = csm_testkit_feed(tk, line);
    char err[512];
    if (restart_each_event && csm_testkit_restart(tk, err, sizeof err) != 0)
        fail_msg("csm_testkit_restart: %s", err);
    return verdict;
}

static int restarts_on(void **state)
{
    (void)state;
    restart_each_event = 1;
    return 0;
}

/* Runs @p tests uninterrupted, then restarting after every event. */
static int run_both_ways(const struct CMUnitTest *tests, size_t n)
{
    int failed = _cmocka_run_group_tests("uninterrupted", tests, n, NULL, NULL);
    return failed +
           _cmocka_run_group_tests("restarted after every event", tests, n, restarts_on, NULL);
}
#define RUN_BOTH_WAYS(tests) run_both_ways(tests, sizeof(tests) / sizeof *(tests))

#endif
