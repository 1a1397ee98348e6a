/* The exactly-once step of `run`: every dirty partition's deltas and its
 * checkpoint (offsets, engine snapshot) in one Redis transaction, after
 * the dead letters up to those offsets are confirmed delivered. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "run_internal.h"
#include "time_bounds.h"

/* For lag tooling only: Redis holds the offsets that count. The offsets
 * are the flushed parts' own: consuming went on past them since the cut. */
static void commit_to_kafka(csm_run *r)
{
    const csm_run_flight *f = &r->flight;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)f->n * 2);
    for (size_t k = 0; k < f->n; k++) {
        const csm_pslot *s = f->owners[k];
        int64_t next[2] = {f->parts[k].chat_offset, f->parts[k].order_offset};
        for (int t = 0; t < 2; t++)
            if (s->engine && s->tp[t].assigned && next[t] >= 0)
                rd_kafka_topic_partition_list_add(l, r->topics[t], s->partition)->offset = next[t];
    }
    if (l->cnt)
        rd_kafka_commit(r->rk, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
}

static void drop_conflicting(csm_run *r, csm_pslot *s, const csm_flush_part *p, int reload)
{
    const char *who = p->stored_by_us
                          ? "written by this process's earlier flush whose reply was lost; events "
                            "were processed since"
                      : p->stored_seq > s->seq ? "another owner wrote it"
                                               : "it went back: Redis lost data, or it was deleted";
    csm_logf(CSM_LOG_WARN, "run",
             "partition %d: checkpoint %s is at seq %" PRIu64 ", not %" PRIu64
             " (%s); dropping local state and reloading",
             (int)s->partition, s->ckpt_key, p->stored_seq, s->seq, who);
    csm_engine_free(s->engine);
    s->engine = NULL;
    s->dirty = 0;
    csm_pslot_clear_queues(s);
    r->pause_stale = 1;
    if (reload)
        r->reload_at_ms = 0;
}

/* What the slot's part covered (deltas, alerts and state changes up to
 * the cut) is in Redis with checkpoint seq + 1. */
static void mark_written(csm_pslot *s, uint64_t alerts_at_cut, const csm_flush_part *p)
{
    s->stored_next[CSM_STREAM_CHAT] = p->chat_offset;
    s->stored_next[CSM_STREAM_ORDER] = p->order_offset;
    s->stored_known = 1;
    csm_engine_ckpt_committed(s->engine);
    csm_run_alerts_committed(s, alerts_at_cut);
    s->seq++;
}

/* Our previous attempt's EXEC applied but its reply was lost: what it
 * wrote is what this attempt would have written (same deltas version and
 * state epoch). The slot stays dirty: the retry writes the new seq, and
 * the offsets too: an event that changed neither (a dead letter) may have
 * moved them since that attempt. */
static void adopt_landed(csm_pslot *s, uint64_t alerts_at_cut, const csm_flush_part *p)
{
    csm_logf(CSM_LOG_INFO, "run",
             "partition %d: the flush of checkpoint seq %" PRIu64
             " was applied although its reply was lost; counted as written",
             (int)s->partition, s->seq + 1);
    mark_written(s, alerts_at_cut, p);
    s->stored_known = 0;
    s->dirty = 1;
}

static int offsets_stored(const csm_pslot *s)
{
    return s->stored_known && s->stored_next[CSM_STREAM_CHAT] == s->tp[CSM_STREAM_CHAT].next &&
           s->stored_next[CSM_STREAM_ORDER] == s->tp[CSM_STREAM_ORDER].next;
}

static double monotonic_us(void)
{
    return (double)csm_monotonic_ns() / 1e3;
}

static void flight_reserve(csm_run_flight *f, size_t n)
{
    if (n <= f->cap)
        return;
    f->cap = n * 2;
    f->parts = realloc(f->parts, f->cap * sizeof *f->parts);
    f->owners = realloc(f->owners, f->cap * sizeof *f->owners);
    f->alerts_at_cut = realloc(f->alerts_at_cut, f->cap * sizeof *f->alerts_at_cut);
    if (!f->parts || !f->owners || !f->alerts_at_cut)
        abort();
}

/* One slot into the flight: its batch is built, then everything the batch
 * and the pending deltas cover is frozen (csm_engine_ckpt_cut), so the
 * slot takes events again at once. 0, or -1 when a plugin failed. */
static int cut_slot(csm_run *r, csm_pslot *s)
{
    csm_run_flight *f = &r->flight;
    char why[256];
    if (csm_engine_ckpt_build(s->engine, &s->batch, why, sizeof why)) {
        csm_logf(CSM_LOG_ERROR, "run", "partition %d: checkpoint: %s", (int)s->partition, why);
        r->fatal = 1;
        return -1;
    }
    csm_engine_ckpt_cut(s->engine);
    f->owners[f->n] = s;
    f->alerts_at_cut[f->n] = csm_engine_alerts(s->engine)->last_seq;
    f->parts[f->n++] = (csm_flush_part){.ckpt_key = s->ckpt_key,
                                        .expected_seq = s->seq,
                                        .chat_offset = s->tp[CSM_STREAM_CHAT].next,
                                        .order_offset = s->tp[CSM_STREAM_ORDER].next,
                                        .offsets_stored = offsets_stored(s),
                                        .clock = csm_engine_clock(s->engine),
                                        .batch = &s->batch,
                                        .keys = &s->ckpt_keys,
                                        .state_epoch = csm_engine_state_epoch(s->engine),
                                        .deltas = csm_engine_frozen_deltas(s->engine)};
    s->dirty = 0;
    return 0;
}

/* The cut: every dirty slot frozen and the first round trip sent. 1 in
 * flight, 0 nothing to write, -1 dead letters not delivered (err). */
static int flush_begin(csm_run *r, int reload, char *err, size_t errlen)
{
    size_t n = 0;
    CSM_PSET_FOREACH(&r->ps, s)
    {
        n += s->engine && s->dirty;
    }
    if (!n) {
        /* The events counted in pending belonged to slots dropped since
         * (assignment lost, a conflict): nothing is left to write, and a
         * count that never falls back would keep process_slot() from
         * taking another event (a whole run once stalled so). */
        r->pending = 0;
        return 0;
    }
    double t0_us = monotonic_us();
    /* Dead letters first: the checkpoint below moves past their offsets.
     * Those sent after the cut are past the cut's offsets. */
    if (csm_deadletter_sync(r->dlq, 2000)) {
        r->tel_now.c.flushes[CSM_FLUSH_FAILED]++;
        snprintf(err, errlen, "dead letters not yet delivered to %s", r->cfg.deadletter_topic);
        return -1;
    }
    csm_run_flight *f = &r->flight;
    flight_reserve(f, n);
    f->n = 0;
    CSM_PSET_FOREACH(&r->ps, s)
    {
        if (s->engine && s->dirty)
            cut_slot(r, s);
    }
    if (!f->n) {
        r->pending = 0;
        return 0;
    }
    f->events = r->pending;
    f->offered_at = r->offered;
    r->pending = 0;
    f->reload = reload;
    f->cut_us = t0_us;
    if (csm_redis_flush_start(r->redis, f->parts, f->n))
        abort(); /* the previous flight's outcome was always taken first */
    f->built_us = monotonic_us() - t0_us;
    return 1;
}

static void log_written(const csm_run *r)
{
    const csm_run_flight *f = &r->flight;
    double took_ms = (monotonic_us() - f->cut_us) / 1e3;
    /* `csmetrics bench` reads these for the flush duration figures. */
    csm_logf(CSM_LOG_DEBUG, "run",
             "flush: %zu partitions in %.3f ms (the cut held the loop %.3f ms; %" PRIu64
             " events offered meanwhile)",
             f->n, took_ms, f->built_us / 1e3, r->offered - f->offered_at);
    if (took_ms > 1000)
        csm_logf(CSM_LOG_WARN, "run", "slow flush: %zu partitions in %.0f ms", f->n, took_ms);
}

/* Applies the flight's outcome @p rc to its slots and returns it. */
static int flush_outcome(csm_run *r, int rc)
{
    csm_run_flight *f = &r->flight;
    for (size_t k = 0; k < f->n; k++) {
        csm_pslot *s = f->owners[k];
        const csm_flush_part *p = &f->parts[k];
        if (rc == 0) {
            mark_written(s, f->alerts_at_cut[k], p);
        } else if (rc == 1 && p->landed) {
            adopt_landed(s, f->alerts_at_cut[k], p);
        } else if (rc == 1 && p->conflict) {
            drop_conflicting(r, s, p, f->reload);
        } else {
            /* Nothing was written: the retry writes it all again. */
            csm_engine_ckpt_uncut(s->engine);
            s->dirty = 1;
        }
    }
    if (rc == 0) {
        r->flushes++;
        log_written(r);
        commit_to_kafka(r);
    } else {
        r->pending += f->events;
    }
    f->n = 0;
    return rc;
}

/* The flight's outcome when it is there (2: still in flight). */
static int flush_take(csm_run *r, int block, char *err, size_t errlen)
{
    if (!csm_redis_flush_busy(r->redis))
        return 0;
    int rc = csm_redis_flush_poll(r->redis, block, err, errlen);
    if (rc == 2)
        return 2;
    csm_run_tel_flight(r, rc, (monotonic_us() - r->flight.cut_us) / 1e6, err);
    return flush_outcome(r, rc);
}

int csm_run_flush(csm_run *r, int reload, char *err, size_t errlen)
{
    csm_run_flush_wait(r);
    int rc = flush_begin(r, reload, err, errlen);
    return rc == 1 ? flush_take(r, 1, err, errlen) : rc;
}

/* The Redis-down state machine after an outcome @p rc (not 2). */
static void after_outcome(csm_run *r, int rc, int64_t now, const char *err)
{
    csm_run_tel_sink(r, rc, now, err);
    if (rc >= 0) {
        if (r->sink_down) {
            csm_logf(CSM_LOG_INFO, "run",
                     "flush succeeded after %" PRIu64 " failed attempts; resuming consumption",
                     r->sink_failures);
            r->sink_down = 0;
            r->sink_failures = 0;
            r->pause_stale = 1;
        }
        /* After a conflict the remaining parts go again right away. */
        if (rc == 1)
            r->last_flush_ms = now - r->cfg.flush_interval_ms;
        return;
    }
    r->sink_failures++;
    if (!r->sink_down) {
        csm_logf(CSM_LOG_ERROR, "run", "flush failed: %s; pausing consumption until it succeeds",
                 err);
        r->sink_down = 1;
        r->backoff_ms = CSM_RUN_BACKOFF_MIN_MS;
        r->pause_stale = 1;
    } else {
        csm_logf(CSM_LOG_DEBUG, "run", "flush retry %" PRIu64 " failed: %s", r->sink_failures, err);
        r->backoff_ms *= 2;
        if (r->backoff_ms > CSM_RUN_BACKOFF_MAX_MS)
            r->backoff_ms = CSM_RUN_BACKOFF_MAX_MS;
    }
    r->retry_at_ms = now + r->backoff_ms;
}

void csm_run_flush_wait(csm_run *r)
{
    char err[512] = "";
    if (r->redis && csm_redis_flush_busy(r->redis))
        after_outcome(r, flush_take(r, 1, err, sizeof err), csm_monotonic_ms(), err);
}

void csm_run_flush_end(csm_run *r)
{
    csm_run_flush_wait(r);
    free(r->flight.parts);
    free(r->flight.owners);
    free(r->flight.alerts_at_cut);
    memset(&r->flight, 0, sizeof r->flight);
}

void csm_run_flush_tick(csm_run *r, int64_t now, int force)
{
    char err[512] = "";
    if (csm_redis_flush_busy(r->redis)) {
        int rc = flush_take(r, 0, err, sizeof err);
        if (rc == 2)
            return; /* one flight at a time: checkpoints go in seq order */
        after_outcome(r, rc, now, err);
    }
    int due = r->sink_down ? now >= r->retry_at_ms
                           : force || r->pending >= (uint64_t)r->cfg.flush_max_events ||
                                 now - r->last_flush_ms >= r->cfg.flush_interval_ms;
    if (!due)
        return;
    r->tel_now.c.redis_retries += (uint64_t)r->sink_down;
    int rc = flush_begin(r, 1, err, sizeof err);
    if (rc == 1) {
        r->last_flush_ms = now;
        return;
    }
    if (rc == 0)
        r->last_flush_ms = now;
    after_outcome(r, rc, now, err);
}
