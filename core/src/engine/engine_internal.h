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

#define CSM_MAX_PLUGIN_STATS 64

typedef struct csm_plugin_stat {
    uint32_t plugin;
    char name[48];
    int64_t value;
} csm_plugin_stat;

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

    csm_engine_state ckst; /* incremental checkpoints (engine_state.c) */
};

/* engine.c */
void csm_engine_apply(csm_engine *e, const csm_event *ev);

#endif
