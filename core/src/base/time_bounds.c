#include "time_bounds.h"

#include <stdio.h>
#include <time.h>

#define DAY_MS 86400000LL

csm_time_bounds csm_time_bounds_run(const csm_config *cfg)
{
    return (csm_time_bounds){cfg->max_clock_skew_ms, cfg->horizon_ms};
}

csm_time_bounds csm_time_bounds_replay(const csm_config *cfg)
{
    return (csm_time_bounds){cfg->max_clock_skew_ms, 0};
}

csm_ts csm_wall_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (csm_ts)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t csm_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t csm_monotonic_ms(void)
{
    return (int64_t)(csm_monotonic_ns() / 1000000u);
}

int csm_time_check_range(csm_ts ts, char *reason, size_t reason_len)
{
    if (ts > 0 && ts <= CSM_TS_VALID_MAX)
        return 0;
    snprintf(reason, reason_len, "timestamp %lld out of range", (long long)ts);
    return -1;
}

/* Ahead of the wall clock by more than the skew. Checked before the
 * range's upper end, so INT64_MAX reads as what it most likely is: a
 * clock far ahead. ts > 0 and now > 0, so ts - now cannot overflow. */
static int check_ahead(const csm_time_bounds *b, csm_ts ts, csm_ts now, char *reason,
                       size_t reason_len)
{
    if (ts <= csm_ts_add(now, b->max_skew_ms))
        return 0;
    snprintf(reason, reason_len,
             "timestamp %lld is %lld ms ahead of the wall clock (max_clock_skew %lld ms)",
             (long long)ts, (long long)(ts - now), (long long)b->max_skew_ms);
    return -1;
}

static int check_floor(csm_ts ts, char *reason, size_t reason_len)
{
    if (csm_time_check_range(ts, reason, reason_len))
        return -1;
    if (ts >= CSM_TS_FLOOR)
        return 0;
    snprintf(reason, reason_len, "timestamp %lld out of range (before 2000-01-01T00:00:00Z)",
             (long long)ts);
    return -1;
}

int csm_time_bounds_check(const csm_time_bounds *b, csm_ts ts, csm_ts now, char *reason,
                          size_t reason_len)
{
    if (!b || ts <= 0)
        return csm_time_check_range(ts, reason, reason_len);
    if (check_ahead(b, ts, now, reason, reason_len))
        return -1;
    if (b->horizon_ms > 0 && ts < csm_ts_sub(now, b->horizon_ms)) {
        snprintf(reason, reason_len,
                 "timestamp %lld is older than the horizon (%lld days behind the wall clock)",
                 (long long)ts, (long long)((now - ts) / DAY_MS));
        return -1;
    }
    return check_floor(ts, reason, reason_len);
}
