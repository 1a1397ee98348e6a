/* Which event timestamps are believable, and arithmetic on event time
 * that cannot overflow.
 *
 * One absurd ts must not become a partition's event time: every later
 * real event would then fail the 7-day rule, or the two-topic merge would
 * wait behind it. So, before an event can move event time:
 *  - always (engine, test kit, replay, run): 1 <= ts <= CSM_TS_VALID_MAX
 *    ("timestamp <ts> out of range"), which also keeps ts + any duration
 *    of the configuration far from INT64_MAX;
 *  - with bounds (replay, run): ts >= 2000-01-01T00:00:00Z, and at most
 *    max_clock_skew ahead of the wall clock;
 *  - in run only: at most `horizon` behind the wall clock.
 * Checked in the order ts <= 0, skew, horizon, 2000, upper end, so that
 * the reason names the likeliest cause (INT64_MAX: a clock far ahead;
 * ts = 1 in run: older than the horizon).
 * The checks take the wall clock as an argument and know no Kafka or
 * Redis; the test kit sets no bounds, so its results do not depend on
 * the day they are computed. */
#ifndef CSM_TIME_BOUNDS_H
#define CSM_TIME_BOUNDS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "csmetrics/plugin.h"

/* 9999-12-31T23:59:59.999Z: past it, a ts is garbage whatever the clock. */
#define CSM_TS_VALID_MAX 253402300799999LL
/* 2000-01-01T00:00:00Z: no real chat or order event is older. */
#define CSM_TS_FLOOR 946684800000LL

typedef struct csm_time_bounds {
    int64_t max_skew_ms; /* ts more than this ahead of the wall clock: refused */
    int64_t horizon_ms;  /* ts more than this behind it: refused; 0 = no horizon */
} csm_time_bounds;

/* `run`: skew and horizon from the pipeline section. */
csm_time_bounds csm_time_bounds_run(const csm_config *cfg);
/* `replay`: file time is kept (no horizon), only the skew applies. */
csm_time_bounds csm_time_bounds_replay(const csm_config *cfg);

/* 0 when @p ts is within 1..CSM_TS_VALID_MAX, else -1 + reason. */
int csm_time_check_range(csm_ts ts, char *reason, size_t reason_len);
/* 0 when @p ts passes the range and @p b (NULL: the range only) at
 * wall-clock @p now (ms since the epoch), else -1 + reason. */
int csm_time_bounds_check(const csm_time_bounds *b, csm_ts ts, csm_ts now, char *reason,
                          size_t reason_len);
/* The wall clock in ms since the epoch, for callers to pass as `now`. */
csm_ts csm_wall_clock_ms(void);
/* A monotonic clock in ms, for timeouts and budgets (never event time). */
int64_t csm_monotonic_ms(void);
/* The same clock in nanoseconds (timing callbacks and flushes). */
uint64_t csm_monotonic_ns(void);

/* t + d and t - d, clamped to [INT64_MIN + 1, INT64_MAX] so that
 * CSM_TS_NONE (INT64_MIN) never appears by accident. Every sum of an
 * event time and a duration in the core goes through these. */
static inline csm_ts csm_ts_add(csm_ts t, int64_t d)
{
    csm_ts r;
    if (__builtin_add_overflow(t, d, &r))
        return d > 0 ? INT64_MAX : INT64_MIN + 1;
    return r == INT64_MIN ? INT64_MIN + 1 : r;
}

static inline csm_ts csm_ts_sub(csm_ts t, int64_t d)
{
    csm_ts r;
    if (__builtin_sub_overflow(t, d, &r))
        return d < 0 ? INT64_MAX : INT64_MIN + 1;
    return r == INT64_MIN ? INT64_MIN + 1 : r;
}

#endif
