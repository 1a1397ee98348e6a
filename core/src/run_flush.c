/* The exactly-once step of `run`: every dirty partition's deltas and its
 * checkpoint (offsets, engine snapshot) in one Redis transaction, after
 * the dead letters up to those offsets are confirmed delivered. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "run_internal.h"

/* For lag tooling only: Redis holds the offsets that count. */
static void commit_to_kafka(csm_run *r)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)r->ps.n * 2);
    CSM_PSET_FOREACH(&r->ps, s)
    {
        for (int t = 0; t < 2; t++)
            if (s->engine && s->tp[t].assigned && s->tp[t].next >= 0)
                rd_kafka_topic_partition_list_add(l, r->topics[t], s->partition)->offset =
                    s->tp[t].next;
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

/* The slot's deltas, alerts and state changes are in Redis with
 * checkpoint seq + 1. */
static void mark_written(csm_pslot *s, const csm_flush_part *p)
{
    s->stored_next[CSM_STREAM_CHAT] = p->chat_offset;
    s->stored_next[CSM_STREAM_ORDER] = p->order_offset;
    s->stored_known = 1;
    csm_deltas_clear(csm_engine_deltas(s->engine));
    csm_engine_ckpt_committed(s->engine);
    csm_run_alerts_committed(s);
    s->seq++;
}

/* Our previous attempt's EXEC applied but its reply was lost: what it
 * wrote is what this attempt would have written (same deltas version and
 * state epoch). The slot stays dirty: the retry writes the new seq, and
 * the offsets too: an event that changed neither (a dead letter) may have
 * moved them since that attempt. */
static void adopt_landed(csm_pslot *s, const csm_flush_part *p)
{
    csm_logf(CSM_LOG_INFO, "run",
             "partition %d: the flush of checkpoint seq %" PRIu64
             " was applied although its reply was lost; counted as written",
             (int)s->partition, s->seq + 1);
    mark_written(s, p);
    s->stored_known = 0;
}

static int offsets_stored(const csm_pslot *s)
{
    return s->stored_known && s->stored_next[CSM_STREAM_CHAT] == s->tp[CSM_STREAM_CHAT].next &&
           s->stored_next[CSM_STREAM_ORDER] == s->tp[CSM_STREAM_ORDER].next;
}

static double monotonic_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int csm_run_flush(csm_run *r, int reload, char *err, size_t errlen)
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
    /* The whole flush, snapshots included: the time the loop is held. */
    double t0_us = monotonic_us();
    /* Dead letters first: the checkpoint below moves past their offsets. */
    if (csm_deadletter_sync(r->dlq, 2000)) {
        snprintf(err, errlen, "dead letters not yet delivered to %s", r->cfg.deadletter_topic);
        return -1;
    }
    csm_flush_part *parts = calloc(n, sizeof *parts);
    csm_pslot **owners = calloc(n, sizeof *owners);
    if (!parts || !owners)
        abort();
    size_t i = 0;
    CSM_PSET_FOREACH(&r->ps, s)
    {
        if (!s->engine || !s->dirty)
            continue;
        char why[256];
        if (csm_engine_ckpt_build(s->engine, &s->batch, why, sizeof why)) {
            csm_logf(CSM_LOG_ERROR, "run", "partition %d: checkpoint: %s", (int)s->partition, why);
            r->fatal = 1;
            continue;
        }
        owners[i] = s;
        parts[i++] = (csm_flush_part){.ckpt_key = s->ckpt_key,
                                      .expected_seq = s->seq,
                                      .chat_offset = s->tp[CSM_STREAM_CHAT].next,
                                      .order_offset = s->tp[CSM_STREAM_ORDER].next,
                                      .offsets_stored = offsets_stored(s),
                                      .clock = csm_engine_clock(s->engine),
                                      .batch = &s->batch,
                                      .keys = &s->ckpt_keys,
                                      .state_epoch = csm_engine_state_epoch(s->engine),
                                      .deltas = csm_engine_deltas(s->engine)};
    }
    int64_t t0 = csm_monotonic_ms();
    int rc = i ? csm_redis_flush(r->redis, parts, i, err, errlen) : 0;
    if (rc == 0) {
        for (size_t k = 0; k < i; k++) {
            mark_written(owners[k], &parts[k]);
            owners[k]->dirty = 0;
        }
        r->pending = 0;
        r->flushes++;
        int64_t took = csm_monotonic_ms() - t0;
        /* `csmetrics bench` reads these for the flush duration figures. */
        csm_logf(CSM_LOG_DEBUG, "run", "flush: %zu partitions in %.3f ms", i,
                 (monotonic_us() - t0_us) / 1e3);
        if (took > 1000)
            csm_logf(CSM_LOG_WARN, "run", "slow flush: %zu partitions in %" PRId64 " ms", i, took);
        commit_to_kafka(r);
    } else if (rc == 1) {
        /* Nothing was written; the other parts stay dirty for the retry. */
        for (size_t k = 0; k < i; k++)
            if (parts[k].landed)
                adopt_landed(owners[k], &parts[k]);
            else if (parts[k].conflict)
                drop_conflicting(r, owners[k], &parts[k], reload);
    }
    free(parts);
    free(owners);
    return rc;
}

void csm_run_flush_tick(csm_run *r, int64_t now, int force)
{
    int due = r->sink_down ? now >= r->retry_at_ms
                           : force || r->pending >= (uint64_t)r->cfg.flush_max_events ||
                                 now - r->last_flush_ms >= r->cfg.flush_interval_ms;
    if (!due)
        return;
    char err[512] = "";
    int rc = csm_run_flush(r, 1, err, sizeof err);
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
        r->last_flush_ms = rc == 1 ? now - r->cfg.flush_interval_ms : now;
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
