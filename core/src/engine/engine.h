/* The engine of one partition number: ingest rules (contract, timestamp
 * bounds, 7-day rule, dedup, lateness), the event-time reorder buffer,
 * event-time timers, the plugin chain instance and the host API behind
 * plugin.h. What plugins emit becomes pending Redis writes (csm_deltas)
 * that the caller flushes together with the partition's offsets and
 * csm_engine_snapshot().
 *
 * Event time (metrics.md "Event time", "Settled details"):
 *  - W, the partition's event time, is the largest accepted ts (or what
 *    csm_engine_advance_to() gave for idle partitions);
 *  - an event is applied once W - allowed_lateness >= its ts, in
 *    (ts, arrival) order; a timer fires once event time passes its
 *    deadline (an event at exactly the deadline is applied first).
 *
 * Nothing here touches Kafka or Redis: `run`, `replay` and the test kit
 * drive the same engine. */
#ifndef CSM_ENGINE_H
#define CSM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "alert_outbox.h"
#include "chain.h"
#include "config.h"
#include "deltas.h"
#include "event_slot.h"
#include "shoptime.h"
#include "time_bounds.h"

typedef struct csm_engine csm_engine;

typedef enum csm_verdict {
    CSM_VERDICT_ACCEPTED = 0, /* buffered; applied when event time allows */
    CSM_VERDICT_DUPLICATE,    /* event_id already accepted: dropped */
    CSM_VERDICT_LATE,         /* behind W - allowed_lateness: dead letter */
    CSM_VERDICT_DEADLETTER    /* contract, timestamp bounds, 7-day rule: dead letter */
} csm_verdict;

/* Per-engine counts since creation (restored from the checkpoint too, so
 * they describe the partition, not the process). */
typedef struct csm_engine_stats {
    uint64_t offered[2]; /* by stream */
    uint64_t accepted[2];
    uint64_t applied[2];
    uint64_t duplicate[2];
    uint64_t late[2];
    uint64_t deadletter[2];
    uint64_t timers_fired;
} csm_engine_stats;

/* A plugin's statistic (csm_host_api::stat_add), by chain index. */
#define CSM_MAX_PLUGIN_STATS 64
typedef struct csm_plugin_stat {
    uint32_t plugin;
    char name[48];
    int64_t value;
} csm_plugin_stat;

/* A chain instance for partition @p partition. cfg, chain and st must
 * outlive the engine. NULL + err when a plugin's init() refuses. */
csm_engine *csm_engine_new(const csm_config *cfg, const csm_chain *chain, csm_shoptime *st,
                           int32_t partition, char *err, size_t errlen);
void csm_engine_free(csm_engine *e);

/* `run` and `replay`: from now on events are also checked against @p b
 * (copied) as of wall-clock @p now, ms since the epoch; the caller calls
 * again as the clock moves. b NULL: only the range 1..9999-12-31 (the
 * default, so the test kit and goldens never depend on the day). A
 * checkpoint restored afterwards must have a clock within the bounds. */
void csm_engine_set_wall_clock(csm_engine *e, const csm_time_bounds *b, csm_ts now);

/* The checks that refuse an event whatever comes after it: contract,
 * timestamp range and wall-clock bounds, then the 7-day rule against the
 * current reference. DEADLETTER + reason, or ACCEPTED when they pass (the
 * event may still be a duplicate or late). Changes nothing: `run` calls
 * it on a decoded head so an absurd ts is dead-lettered before it can
 * order the two-topic merge; csm_engine_offer() runs it again. */
csm_verdict csm_engine_precheck(const csm_engine *e, const csm_event *ev, char *reason,
                                size_t reason_len);

/* Ingests one decoded event in arrival order. Validates the contract
 * again (cheap) and applies the ingest rules; on anything but ACCEPTED,
 * @p reason says why ("late: 6000 ms behind event time", …). Then applies
 * whatever the new event time releases. */
csm_verdict csm_engine_offer(csm_engine *e, const csm_event *ev, char *reason, size_t reason_len);

/* csm_engine_precheck() and csm_engine_offer() for an event a codec
 * decoded, which has passed csm_event_validate() already: the contract is
 * not checked a second and third time (a tenth of `run`'s instructions
 * per event went there). */
csm_verdict csm_engine_precheck_decoded(const csm_engine *e, const csm_event *ev, char *reason,
                                        size_t reason_len);
csm_verdict csm_engine_offer_decoded(csm_engine *e, const csm_event *ev, char *reason,
                                     size_t reason_len);

/* Idle advance: raises event time to @p w (no-op if not later) and
 * applies what that releases. */
void csm_engine_advance_to(csm_engine *e, csm_ts w);

/* End of input (offline replay, test kit): applies every buffered event,
 * then fires every timer in deadline order, including the ones they set
 * (deadlines beyond the last event + 31 days are dropped so a timer that
 * re-arms itself cannot run forever). */
void csm_engine_finish(csm_engine *e);

csm_ts csm_engine_event_time(const csm_engine *e); /* W, CSM_TS_NONE before any event */
/* What has been applied through: W - allowed_lateness (timers up to it
 * have fired), CSM_TS_NONE before any event. */
csm_ts csm_engine_clock(const csm_engine *e);
size_t csm_engine_buffered(const csm_engine *e); /* events waiting for event time */
const csm_engine_stats *csm_engine_stats_get(const csm_engine *e);
/* Sum of the plugins' state_entries() (open sessions, customers…). */
uint64_t csm_engine_state_entries(const csm_engine *e);
/* For /metrics, since this engine was created (none is checkpointed):
 * plugin @p i's (chain index) state_entries(), its time in on_event,
 * on_derived and on_timer in ns (sampled, see engine_internal.h), the
 * statistics plugins added (*n of them, in the order first added), and
 * the timers pending. */
uint64_t csm_engine_plugin_entries(const csm_engine *e, size_t i);
uint64_t csm_engine_plugin_ns(const csm_engine *e, size_t i);
const csm_plugin_stat *csm_engine_plugin_stats(const csm_engine *e, size_t *n);
size_t csm_engine_timers_pending(const csm_engine *e);

/* Pending writes since the last csm_deltas_clear() by the caller. */
csm_deltas *csm_engine_deltas(csm_engine *e);

/* Holds every alert raised from now on in the engine's outbox (part of
 * the snapshot) until the caller acknowledges its delivery to Kafka. */
void csm_engine_keep_alerts(csm_engine *e, int keep);
csm_alert_outbox *csm_engine_alerts(csm_engine *e);
/* Everything needed to continue exactly where this engine stands: event
 * time, dedup memory, buffered events, timers, stats and every plugin's
 * snapshot (tagged with its name). Pending deltas are not included: they
 * are written in the same atomic step as the snapshot. */
int csm_engine_snapshot(csm_engine *e, csm_writer *w);
/* Into a fresh engine of the same chain. -1 + err on a corrupt snapshot
 * or a chain that differs from the one that wrote it. */
int csm_engine_restore(csm_engine *e, const void *data, size_t len, char *err, size_t errlen);

/* Incremental checkpoints (engine_state.c, engine_load.c; csm_ckpt_batch
 * in ckpt_batch.h). Build writes into @p b what changed since the last
 * committed flush (-1 + err when a plugin fails to save an entry); once
 * that batch is known to be in the store, csm_engine_ckpt_committed()
 * forgets those changes.
 *
 * A flush that overlaps with consuming cuts right after the build:
 * csm_engine_ckpt_cut() moves the pending deltas into the frozen table
 * (csm_engine_frozen_deltas, what the flush sends) and sets aside what
 * the batch covers, so the engine goes on changing. Then exactly one of:
 * committed() (written: forgets what the cut covered, and only that;
 * entries touched again since stay touched), or uncut() (not written:
 * everything the cut covered is pending again, frozen deltas ahead of
 * those counted since). Without a cut, committed() forgets everything
 * changed up to now and leaves the deltas alone (the test kit's way). */
struct csm_ckpt_batch;
struct csm_ckpt_source;
int csm_engine_ckpt_build(csm_engine *e, struct csm_ckpt_batch *b, char *err, size_t errlen);
void csm_engine_ckpt_cut(csm_engine *e);
void csm_engine_ckpt_uncut(csm_engine *e);
void csm_engine_ckpt_committed(csm_engine *e);
csm_deltas *csm_engine_frozen_deltas(csm_engine *e);
/* Bumped by every change of state: equal epochs (and deltas versions) mean
 * a batch built now would hold what the earlier one held. */
uint64_t csm_engine_state_epoch(const csm_engine *e);
/* Replay: no checkpoint is ever written, so nothing is tracked. */
void csm_engine_ckpt_off(csm_engine *e);
/* Into a fresh engine: 0 (restored, or nothing stored), -1 the store
 * cannot be read (retry), -2 refused (err names why: a plugin's state
 * version is newer than the plugin, an entry it cannot read, …). @p where
 * says where a plugin new to the checkpoint starts, for its log line. */
int csm_engine_ckpt_load(csm_engine *e, const struct csm_ckpt_source *src, const char *where,
                         char *err, size_t errlen);
/* The sections csm_engine_ckpt_load() may read for @p chain, in the order
 * it reads them: "", each plugin's "state:NAME", "buffer", "dedup". It
 * skips those it does not need, so a reader may fetch them all ahead.
 * Returns how many were written (at most @p max). */
size_t csm_engine_ckpt_sections(const csm_chain *chain, char (*out)[96], size_t max);
/* The test kit's restart: @p to takes over @p from's pending writes. */
void csm_engine_move_deltas(csm_engine *to, csm_engine *from);

#endif
