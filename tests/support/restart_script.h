/* Plugin tests of incremental checkpoints through the test kit: a script
 * of events is fed to a chain, restarted with csm_testkit_restart() (kill
 * -9 at a flush, then a fresh engine loading what was checkpointed) before
 * chosen events, and everything the chain wrote is compared with the
 * uninterrupted run's. The including test includes cmocka first. */
#ifndef RESTART_SCRIPT_H
#define RESTART_SCRIPT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csmetrics/testkit.h"

/* One event of a script: @p fields are the event's own JSON members. */
typedef struct rs_event {
    const char *stream; /* "chat" or "order" */
    const char *shop;
    const char *customer;
    int64_t ts;
    const char *fields;
} rs_event;

/* Which restarts rs_run() makes: none, before every event, or before the
 * event of index cut (the script's length: after the last, before the end). */
#define RS_NEVER (-1L)
#define RS_EVERY (-2L)

static void rs_restart(csm_testkit *tk)
{
    char err[512];
    if (csm_testkit_restart(tk, err, sizeof err))
        fail_msg("csm_testkit_restart: %s", err);
}

static void rs_feed(csm_testkit *tk, const rs_event *e, size_t i)
{
    char line[1024];
    int n = snprintf(line, sizeof line,
                     "{\"stream\":\"%s\",\"event_id\":\"rs%zu\",\"platform\":\"DOUYIN\","
                     "\"shop_id\":\"%s\",\"customer_id\":\"%s\",\"ts\":%lld,%s}",
                     e->stream, i, e->shop, e->customer, (long long)e->ts, e->fields);
    assert_true(n > 0 && (size_t)n < sizeof line);
    if (csm_testkit_feed(tk, line) != CSM_TK_ACCEPTED)
        fail_msg("event %zu refused: %s", i, csm_testkit_last_reason(tk));
}

/* Runs the script on a fresh chain with the restarts @p cut asks for, then
 * ends the input (every timer fires). The caller frees the kit. */
static csm_testkit *rs_run(const char *yaml, const rs_event *script, size_t n, long cut)
{
    char err[512];
    csm_testkit *tk = csm_testkit_new(yaml, err, sizeof err);
    if (!tk)
        fail_msg("csm_testkit_new: %s", err);
    for (size_t i = 0; i < n; i++) {
        if (cut == RS_EVERY || cut == (long)i)
            rs_restart(tk);
        rs_feed(tk, &script[i], i);
    }
    if (cut == (long)n)
        rs_restart(tk);
    csm_testkit_end(tk);
    return tk;
}

/* Every counter, set member and alert written so far, sorted, one a line
 * (csm_testkit_dump), without key expiries: when those are written
 * depends on flushes, not on the figures. */
static char *rs_dump(csm_testkit *tk)
{
    char *all = NULL, *out;
    size_t len = 0;
    FILE *f = open_memstream(&all, &len);
    assert_non_null(f);
    csm_testkit_dump(tk, f);
    fclose(f);
    out = calloc(1, len + 1);
    assert_non_null(out);
    size_t o = 0;
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n"))
        if (!strstr(line, " expireat "))
            o += (size_t)sprintf(out + o, "%s\n", line);
    free(all);
    return out;
}

/* @p check (hand-derived figures) holds for the uninterrupted run and for
 * the run restarted before every event. */
static void rs_check_figures(const char *yaml, const rs_event *script, size_t n,
                             void (*check)(csm_testkit *tk))
{
    csm_testkit *tk = rs_run(yaml, script, n, RS_NEVER);
    check(tk);
    csm_testkit_free(tk);
    tk = rs_run(yaml, script, n, RS_EVERY);
    check(tk);
    csm_testkit_free(tk);
}

/* A restart before any single event, and one before every event, change
 * nothing that the chain writes, and leave no state behind at the end. */
static void rs_check_restarts(const char *yaml, const rs_event *script, size_t n)
{
    csm_testkit *tk = rs_run(yaml, script, n, RS_NEVER);
    char *want = rs_dump(tk);
    csm_testkit_free(tk);
    for (long cut = RS_EVERY; cut <= (long)n; cut++) {
        if (cut == RS_NEVER)
            continue;
        tk = rs_run(yaml, script, n, cut);
        char *got = rs_dump(tk);
        if (strcmp(want, got))
            fail_msg("restart at %ld:\n--- want\n%s--- got\n%s", cut, want, got);
        assert_int_equal(csm_testkit_state_entries(tk), 0);
        free(got);
        csm_testkit_free(tk);
    }
    free(want);
}

#endif
