/* glibc keeps the pages of freed chunks (and of librdkafka's per-thread
 * arenas) mapped: a daemon that consumed a burst, applied it and wrote its
 * checkpoint would hold the burst's working memory for ever. Once no event
 * has been offered or applied for a while, malloc_trim gives the free pages
 * back; it runs again at doubling intervals (timers, idle ticks and the
 * flush that follows the burst free more) and stops after 64 s of quiet.
 * Applied counts too: buffered events are applied, and their state written,
 * only once idle advance moves event time past them, seconds after the last
 * one was offered. */
#include "engine.h"
#include "run_internal.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#define TRIM_FIRST_MS 1000
#define TRIM_LAST_MS 64000

static void trim(void)
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

static uint64_t activity(csm_run *r)
{
    uint64_t n = r->offered;
    CSM_PSET_FOREACH(&r->ps, s)
    {
        if (!s->engine)
            continue;
        const csm_engine_stats *st = csm_engine_stats_get(s->engine);
        n += st->applied[0] + st->applied[1];
    }
    return n;
}

void csm_run_trim_tick(csm_run *r, int64_t now_ms)
{
    uint64_t seen = activity(r);
    if (seen != r->trim_offered || !r->trim_quiet_since) {
        r->trim_offered = seen;
        r->trim_quiet_since = now_ms;
        r->trim_next_ms = TRIM_FIRST_MS;
        return;
    }
    if (r->trim_next_ms > TRIM_LAST_MS || now_ms - r->trim_quiet_since < r->trim_next_ms)
        return;
    trim();
    r->trim_next_ms *= 2;
}
