/* The engine's private state, shared by engine.c (ingest, ordering,
 * dispatch), engine_host.c (the host API) and engine_checkpoint.c. */
#ifndef CSM_ENGINE_INTERNAL_H
#define CSM_ENGINE_INTERNAL_H

#include "alert_outbox.h"
#include "dedup.h"
#include "engine.h"
#include "engine_state.h"
#include "reorder.h"
#include "time_bounds.h"
#include "timers.h"

/* What plugins are told they are talking to. */
struct csm_host {
    csm_engine *engine;
    uint32_t index; /* position in the chain */
};

/* Time spent in plugins' callbacks (csm_engine_plugin_ns): one top-level
 * dispatch (an event, a timer) in CSM_ENGINE_TIMING_EVERY is timed, with
 * its derived events, and counts that many times. Measured on `replay`
 * (callgrind, 71 k events): timing every dispatch adds 1.1 % of the
 * instructions, one in 16 adds 0.3 %. */
#define CSM_ENGINE_TIMING_EVERY 16

typedef struct csm_engine_timing {
    uint64_t ns[CSM_MAX_PLUGINS]; /* per chain index, scaled */
    uint64_t mark_ns;             /* when the running callback began or resumed */
    uint32_t tick;                /* top-level dispatches so far */
    int on;                       /* this dispatch is timed */
    int cur;                      /* chain index being timed, -1 none */
} csm_engine_timing;

/* The expiry of the last (shop, day) counted (engine_host.c). */
typedef struct csm_expiry_memo {
    int valid;
    uint32_t shop;
    int32_t day;
    int64_t expire_at;
} csm_expiry_memo;

struct csm_engine {
    const csm_config *cfg;
    const csm_chain *chain;
    csm_shoptime *st;
    int32_t partition;

    void *ctx[CSM_MAX_PLUGINS];
    csm_host hosts[CSM_MAX_PLUGINS];
    size_t n_inited;

    csm_ts event_time;  /* W: largest accepted ts, or idle-advanced */
    csm_ts applied_max; /* largest ts applied to the chain */
    csm_ts now;         /* time of what is being applied */
    uint64_t arrival_seq;
    /* Wall-clock bounds (run, replay); unset in the test kit. */
    int has_bounds;
    csm_time_bounds bounds;
    csm_ts wall_now;
    int publish_depth;

    csm_dedup dedup;
    csm_reorder buffer;
    csm_timers timers;
    csm_deltas *deltas;
    csm_deltas *frozen; /* what the flush in flight writes (csm_engine_ckpt_cut) */
    csm_expiry_memo expiry_memo;
    csm_alert_outbox alerts;
    csm_engine_stats stats;

    csm_plugin_stat plugin_stats[CSM_MAX_PLUGIN_STATS];
    size_t n_plugin_stats;
    csm_engine_timing timing;

    csm_engine_state ckst; /* incremental checkpoints (engine_state.c) */
};

/* engine.c */
void csm_engine_apply(csm_engine *e, const csm_event *ev);
/* Charges the time since the mark to the plugin being timed. */
void csm_engine_time_charge(csm_engine_timing *t);
/* Around every plugin callback (inline: they run on every event, timed
 * or not): enter returns what leave restores, so a derived event's
 * handler is charged apart from its publisher. */
static inline int csm_engine_time_enter(csm_engine *e, int plugin)
{
    csm_engine_timing *t = &e->timing;
    int prev = t->cur;
    if (t->on) {
        csm_engine_time_charge(t);
        t->cur = plugin;
    }
    return prev;
}
static inline void csm_engine_time_leave(csm_engine *e, int prev)
{
    csm_engine_timing *t = &e->timing;
    if (t->on) {
        csm_engine_time_charge(t);
        t->cur = prev;
    }
}

#endif
