/* Incremental checkpoints of one engine (docs/architecture.md,
 * "Checkpoints"): what changed since the last flush that reached Redis,
 * and how it becomes a csm_ckpt_batch. Each plugin's state is a set of
 * records by entry key; the engine's own state (clocks, stats, buffered
 * events, alert outbox) one field; the dedup memory a log of segments. */
#ifndef CSM_ENGINE_STATE_H
#define CSM_ENGINE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event_slot.h"
#include "csmetrics/plugin.h"
#include "keyset.h"

/* One flush's worth of dedup entries, [.., end) in absolute positions. */
typedef struct csm_dedup_seg {
    uint64_t no, end;
} csm_dedup_seg;

/* What the flush in flight covers (csm_engine_ckpt_cut): the touched sets
 * and flags moved out of the live state, and the positions the batch was
 * built at, which committed() makes the new "written" marks. */
typedef struct csm_ckpt_cut {
    int active;
    csm_keyset dirty[CSM_MAX_PLUGINS];
    int core_dirty, applied, meta_dirty;
    uint64_t forgotten;   /* dedup entries forgotten, as the batch saw them */
    uint64_t arrival_seq; /* the buffer's records below it are in the batch */
    size_t n_unbuffered;  /* unbuffered[0..n) were deleted by the batch */
    uint64_t outbox_sig[3];
    csm_ts event_time;
    size_t n_drop; /* drop[0..n) were deleted by the batch */
    int reset;     /* so were the dedup and buffer hashes */
} csm_ckpt_cut;

typedef struct csm_engine_state {
    int off;        /* replay: nothing is ever checkpointed */
    int loading;    /* touches from load_entry() change nothing */
    uint64_t epoch; /* bumped by every change: part of the flush's writer */
    int core_dirty; /* the "engine" field must be written */
    int applied;    /* an event or timer reached the chain (1.0/1.1 plugins) */
    int meta_dirty; /* the "plugins" field must be written */
    int event_time_written;
    csm_ts written_event_time;
    uint64_t outbox_sig[3]; /* outbox as last written: len, first seq, last seq */
    csm_keyset dirty[CSM_MAX_PLUGINS];

    /* The dedup log: segments in Redis, oldest first. */
    csm_dedup_seg *segs;
    size_t n_segs, cap_segs;
    uint64_t dedup_written; /* absolute position up to which segments exist */
    uint64_t next_seg;
    csm_dedup_seg pending; /* the segment of the batch being written; end 0: none */

    /* The reorder buffer as records by arrival seq: events that arrived
     * from buffer_upto on are not stored yet; applied events below it are
     * (until the flush deletes them). */
    uint64_t buffer_upto;
    uint64_t *unbuffered;
    size_t n_unbuffered, cap_unbuffered;

    /* No checkpoint was stored: records left in the dedup and buffer
     * hashes (its hash deleted by hand, say) belong to no checkpoint, and
     * the first flush deletes them before writing its own. */
    int reset;
    /* Records hashes the next flush deletes: plugins the checkpoint holds
     * that are no longer in the chain, and plugins it does not list
     * (their hash is written anew). */
    char (*drop)[64];
    size_t n_drop;

    csm_ckpt_cut cut;
} csm_engine_state;

struct csm_engine;
void csm_engine_state_free(csm_engine_state *s);
/* Entry @p key of plugin @p plugin changed (a touch, or one of its timers). */
void csm_engine_state_touch(struct csm_engine *e, uint32_t plugin, uint64_t key);
/* The engine's own state changed (an offer, forgotten ids). */
void csm_engine_state_changed(struct csm_engine *e);
/* An event or timer was applied to the chain. */
void csm_engine_state_applied(struct csm_engine *e);

/* The buffered event of arrival @p seq was applied. */
void csm_engine_state_unbuffered(struct csm_engine *e, uint64_t seq);
/* Event time moved (nothing else needs writing for that alone). */
void csm_engine_state_clock(struct csm_engine *e);
/* After a load: what is in memory is what the checkpoint holds. */
void csm_engine_state_loaded(struct csm_engine *e);

/* Appends a segment of the dedup log (newest last). */
void csm_engine_state_push_seg(csm_engine_state *s, csm_dedup_seg seg);

/* 1 when plugin @p p saves entries (ABI 1.2 save_entry/load_entry). */
int csm_plugin_has_entries(const csm_plugin *p);
uint32_t csm_plugin_state_version(const csm_plugin *p);

/* The "engine" field (engine_checkpoint.c): everything but the clock,
 * the plugins' records and the dedup entries. */
#define CSM_CKPT_ENGINE_MAGIC 0x43534d454e470003LL /* "CSMENG" + version 3 */
void csm_engine_core_put(const struct csm_engine *e, uint64_t next_seg, csm_writer *w);
/* Into a fresh engine; *next_seg and *forgotten as written. 0 or -1. */
int csm_engine_core_get(struct csm_engine *e, csm_reader *r, uint64_t *next_seg,
                        uint64_t *forgotten);
/* One buffered event's record (engine_checkpoint.c). */
void csm_engine_event_put(csm_writer *w, const csm_event *ev);
int csm_engine_event_get(csm_reader *r, csm_event_slot *slot);
/* The checkpoint's clocks held to the wall-clock bounds (0 or -1 + err). */
int csm_engine_check_clocks(const struct csm_engine *e, char *err, size_t errlen);

#endif
