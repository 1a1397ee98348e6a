/* Partition ownership for `run`: the range assignor gives partition N of
 * both topics to the same member, which continues exactly where the
 * partition's checkpoint in Redis stands (Kafka Connect sinks do the
 * same), whatever offsets Kafka may have committed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_store.h"
#include "keys.h"
#include "log.h"
#include "run_internal.h"

static void fmt_offset(char *buf, size_t n, int64_t off)
{
    if (off < 0)
        snprintf(buf, n, "beginning");
    else
        snprintf(buf, n, "%" PRId64, off);
}

/* Where a plugin new to the checkpoint starts counting, for its log line. */
static void describe_start(const csm_run *r, const csm_checkpoint *ck, char *out, size_t n)
{
    char c[24], o[24];
    fmt_offset(c, sizeof c, ck->found ? ck->chat_offset : -1);
    fmt_offset(o, sizeof o, ck->found ? ck->order_offset : -1);
    snprintf(out, n, "offsets %s %s, %s %s", r->topics[0], c, r->topics[1], o);
}

/* A fresh engine with the checkpoint's state: 0, -1 Redis unreachable
 * (retry), -2 refused (fatal: starting over would count twice). */
static int restore_engine(csm_run *r, csm_pslot *s, const csm_checkpoint *ck, csm_ckpt_prefetch *pf,
                          csm_engine **out)
{
    char err[512], where[128];
    csm_engine *e = csm_engine_new(&r->cfg, r->chain, r->st, s->partition, err, sizeof err);
    if (!e) {
        csm_logf(CSM_LOG_ERROR, "run", "partition %d: %s", (int)s->partition, err);
        return -2;
    }
    /* Before the restore, so a checkpoint's clock is held to the bounds. */
    csm_engine_set_wall_clock(e, &r->bounds, csm_wall_clock_ms());
    describe_start(r, ck, where, sizeof where);
    csm_ckpt_redis rs = {r->redis, &s->ckpt_keys};
    csm_ckpt_prefetched ps = {pf, &s->ckpt_keys};
    csm_ckpt_source src = pf ? csm_ckpt_prefetch_source(&ps) : csm_ckpt_store_source(&rs);
    int rc = ck->found ? csm_engine_ckpt_load(e, &src, where, err, sizeof err) : 0;
    if (rc == -1)
        csm_logf(CSM_LOG_WARN, "run", "partition %d: cannot load checkpoint: %s; will retry",
                 (int)s->partition, err);
    else if (rc)
        csm_logf(CSM_LOG_ERROR, "run",
                 "partition %d: checkpoint %s cannot be restored: %s (delete it only together "
                 "with the figures it covers)",
                 (int)s->partition, s->ckpt_key, err);
    if (rc)
        csm_engine_free(e);
    else
        *out = e;
    return rc;
}

/* Reads through @p pf when it is given (its reads sent ahead), else one
 * command at a time on the store's connection. */
static int load_slot(csm_run *r, csm_pslot *s, csm_ckpt_prefetch *pf)
{
    char err[512];
    csm_checkpoint ck = {0};
    if (pf ? csm_ckpt_prefetch_head(pf, &s->ckpt_keys, &ck, err, sizeof err)
           : csm_redis_load_checkpoint(r->redis, s->ckpt_key, &ck, err, sizeof err)) {
        csm_logf(CSM_LOG_WARN, "run", "partition %d: cannot load checkpoint: %s; will retry",
                 (int)s->partition, err);
        return -1;
    }
    csm_engine *e = NULL;
    int rc = restore_engine(r, s, &ck, pf, &e);
    if (rc) {
        if (rc == -2)
            r->fatal = 1;
        return -1;
    }
    s->engine = e;
    csm_tel_adopt(&s->tel, e);
    if (csm_run_alerts_adopt(r, s, err, sizeof err)) {
        csm_logf(r->fatal ? CSM_LOG_ERROR : CSM_LOG_WARN, "run", "partition %d: %s%s",
                 (int)s->partition, err, r->fatal ? "" : "; will retry");
        csm_engine_free(e);
        s->engine = NULL;
        return -1;
    }
    s->seq = ck.found ? ck.seq : 0;
    int64_t off[2] = {ck.chat_offset, ck.order_offset};
    for (int t = 0; t < 2; t++) {
        s->tp[t].next = ck.found && off[t] >= 0 ? off[t] : RD_KAFKA_OFFSET_BEGINNING;
        s->tp[t].fetched = s->tp[t].next >= 0 ? s->tp[t].next : -1;
        s->tp[t].eof = 0;
        s->tp[t].backlog = 0;
        s->stored_next[t] = off[t];
    }
    s->stored_known = ck.found;
    s->dirty = 0;
    s->last_msg_ms = csm_monotonic_ms();
    s->last_idle_ms = 0;
    s->w_last = csm_engine_event_time(e);
    char c[24], o[24];
    fmt_offset(c, sizeof c, s->tp[CSM_STREAM_CHAT].next);
    fmt_offset(o, sizeof o, s->tp[CSM_STREAM_ORDER].next);
    csm_logf(CSM_LOG_INFO, "run", "partition %d: %s; %s from %s, %s from %s", (int)s->partition,
             ck.found ? "checkpoint loaded" : "no checkpoint", r->topics[0], c, r->topics[1], o);
    return 0;
}

int csm_run_load_slot(csm_run *r, csm_pslot *s)
{
    return load_slot(r, s, NULL);
}

/* How many partitions' reads are on their way beyond the one being
 * decoded: one keeps Redis busy meanwhile, more would only hold their
 * replies (a whole partition's state each) in Redis's output buffer. */
#define LOAD_AHEAD 1

static int send_reads(csm_run *r, csm_ckpt_prefetch *pf, csm_pslot *s)
{
    char sections[CSM_MAX_PLUGINS + 3][CSM_CKPT_SECTION_MAX]; /* "", plugins, buffer, dedup */
    size_t n = csm_engine_ckpt_sections(r->chain, sections, sizeof sections / sizeof *sections);
    return csm_ckpt_prefetch_send(pf, &s->ckpt_keys, (const char(*)[CSM_CKPT_SECTION_MAX])sections,
                                  n);
}

/* Loads the newly assigned slots, the next one's checkpoint read while
 * this one's is decoded. Without a second connection they load one by one;
 * a slot that fails stays unloaded and is retried (csm_run_reload_pending). */
static void load_slots(csm_run *r, csm_pslot **v, size_t n)
{
    char err[512];
    csm_ckpt_prefetch pf;
    if (n < 2 || csm_ckpt_prefetch_open(&pf, &r->cfg.redis, err, sizeof err)) {
        if (n >= 2)
            csm_logf(CSM_LOG_DEBUG, "run", "checkpoints load one by one: %s", err);
        for (size_t i = 0; i < n && !r->fatal; i++)
            load_slot(r, v[i], NULL);
        return;
    }
    size_t sent = 0;
    for (size_t i = 0; i < n && !r->fatal; i++) {
        while (sent < n && sent <= i + LOAD_AHEAD && !send_reads(r, &pf, v[sent]))
            sent++;
        load_slot(r, v[i], i < sent ? &pf : NULL);
    }
    csm_ckpt_prefetch_close(&pf);
}

void csm_run_apply_pause(csm_run *r)
{
    r->pause_stale = 0;
    rd_kafka_topic_partition_list_t *pause = rd_kafka_topic_partition_list_new(8);
    rd_kafka_topic_partition_list_t *resume = rd_kafka_topic_partition_list_new(8);
    CSM_PSET_FOREACH(&r->ps, s)
    {
        for (int t = 0; t < 2; t++) {
            csm_tp *tp = &s->tp[t];
            if (!tp->assigned)
                continue;
            int want = r->sink_down || !s->engine || tp->backlog || csm_pslot_needs_schema(s);
            if (want == tp->paused)
                continue;
            rd_kafka_topic_partition_list_add(want ? pause : resume, r->topics[t], s->partition);
            tp->paused = want;
        }
    }
    /* Pausing drops librdkafka's prefetched messages for the partition and
     * resumes after the last one we polled: ours stay queued in the slot. */
    if (pause->cnt)
        rd_kafka_pause_partitions(r->rk, pause);
    if (resume->cnt)
        rd_kafka_resume_partitions(r->rk, resume);
    rd_kafka_topic_partition_list_destroy(pause);
    rd_kafka_topic_partition_list_destroy(resume);
}

static void seek_slot(csm_run *r, csm_pslot *s)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    for (int t = 0; t < 2; t++)
        if (s->tp[t].assigned)
            rd_kafka_topic_partition_list_add(l, r->topics[t], s->partition)->offset =
                s->tp[t].next;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(r->rk, l, 5000);
    if (e) {
        csm_logf(CSM_LOG_ERROR, "run", "partition %d: seek failed: %s", (int)s->partition,
                 rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].err)
            csm_logf(CSM_LOG_ERROR, "run", "seek %s [%d] to %" PRId64 ": %s", l->elems[i].topic,
                     (int)l->elems[i].partition, l->elems[i].offset,
                     rd_kafka_err2str(l->elems[i].err));
    rd_kafka_topic_partition_list_destroy(l);
}

void csm_run_reload_pending(csm_run *r, int64_t now)
{
    if (now < r->reload_at_ms)
        return;
    int failed = 0;
    CSM_PSET_FOREACH(&r->ps, s)
    {
        if (s->engine || failed || r->fatal)
            continue;
        if (csm_run_load_slot(r, s)) {
            failed = 1;
            continue;
        }
        /* Resume first: a seek queued before the resume would be undone by
         * the resume's own restart position. */
        csm_run_apply_pause(r);
        seek_slot(r, s);
    }
    r->reload_at_ms = failed ? now + 1000 : 0;
}

/* How many partitions the chat topic has: every one of them must have
 * passed a shop-day before it is decided. */
void csm_run_count_partitions(csm_run *r)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->rk, r->topics[CSM_STREAM_CHAT], NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (!rd_kafka_metadata(r->rk, 0, rkt, &md, 5000) && md->topic_cnt == 1 && !md->topics[0].err)
        r->n_partitions = md->topics[0].partition_cnt;
    else
        csm_logf(CSM_LOG_WARN, "run", "cannot read the partition count of %s",
                 r->topics[CSM_STREAM_CHAT]);
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
}

static void on_assign(csm_run *r, rd_kafka_topic_partition_list_t *parts)
{
    csm_run_count_partitions(r);
    csm_pslot **fresh = calloc((size_t)parts->cnt + 1, sizeof *fresh);
    if (!fresh)
        abort();
    size_t n_fresh = 0;
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        int t = csm_run_topic_index(r, p->topic);
        if (t < 0)
            continue;
        csm_pslot *s = csm_pset_get(&r->ps, p->partition);
        if (!s) {
            s = csm_pset_add(&r->ps, p->partition);
            if (csm_key_checkpoint(s->ckpt_key, sizeof s->ckpt_key, r->cfg.prefix, r->cfg.group_id,
                                   p->partition) < 0 ||
                csm_ckpt_keys_init(&s->ckpt_keys, r->cfg.prefix, s->ckpt_key) < 0) {
                csm_logf(CSM_LOG_ERROR, "run", "checkpoint key too long for group %s",
                         r->cfg.group_id);
                r->fatal = 1;
            } else {
                fresh[n_fresh++] = s;
            }
        }
        s->tp[t].assigned = 1;
        s->tp[t].paused = 0;
    }
    load_slots(r, fresh, n_fresh);
    free(fresh);
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        int t = csm_run_topic_index(r, p->topic);
        csm_pslot *s = t < 0 ? NULL : csm_pset_get(&r->ps, p->partition);
        /* An unloaded slot starts paused and seeks once it is loaded. */
        p->offset = s && s->engine ? s->tp[t].next : RD_KAFKA_OFFSET_INVALID;
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(r->rk, parts);
    if (e) {
        csm_logf(CSM_LOG_ERROR, "run", "assign failed: %s", rd_kafka_err2str(e));
        r->fatal = 1;
    }
    csm_run_apply_pause(r);
    int lone = 0;
    CSM_PSET_FOREACH(&r->ps, s)
    {
        lone += !s->tp[0].assigned || !s->tp[1].assigned;
    }
    csm_logf(CSM_LOG_INFO, "run", "assigned %d topic partitions; %zu partition numbers owned",
             parts->cnt, r->ps.n);
    if (lone)
        csm_logf(CSM_LOG_WARN, "run",
                 "%d partition numbers have only one of the two topics: are %s and %s "
                 "co-partitioned (same partition count) and is the assignor range?",
                 lone, r->topics[0], r->topics[1]);
}

static void on_revoke(csm_run *r, rd_kafka_topic_partition_list_t *parts)
{
    /* Its outcome concerns slots about to be freed. */
    csm_run_flush_wait(r);
    if (rd_kafka_assignment_lost(r->rk)) {
        /* Another member may already own them: its checkpoint wins. */
        csm_logf(CSM_LOG_WARN, "run", "assignment lost; dropping unflushed state");
    } else {
        char err[512];
        int rc = csm_run_flush(r, 0, err, sizeof err);
        if (rc < 0)
            csm_logf(CSM_LOG_WARN, "run",
                     "final flush before revoke failed: %s; the next owner resumes from the "
                     "last checkpoint",
                     err);
        else
            csm_run_alerts_drain(r, 5000);
    }
    /* librdkafka keeps an application pause across reassignment: lift ours
     * before letting go, or a later owner in this process would stall. */
    rd_kafka_topic_partition_list_t *resume = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++) {
        int t = csm_run_topic_index(r, parts->elems[i].topic);
        csm_pslot *s = csm_pset_get(&r->ps, parts->elems[i].partition);
        if (t >= 0 && s && s->tp[t].paused)
            rd_kafka_topic_partition_list_add(resume, r->topics[t], s->partition);
    }
    if (resume->cnt)
        rd_kafka_resume_partitions(r->rk, resume);
    rd_kafka_topic_partition_list_destroy(resume);
    for (int i = 0; i < parts->cnt; i++) {
        int t = csm_run_topic_index(r, parts->elems[i].topic);
        csm_pslot *s = csm_pset_get(&r->ps, parts->elems[i].partition);
        if (t < 0 || !s)
            continue;
        s->tp[t].assigned = 0;
        s->tp[t].paused = 0;
        if (!s->tp[0].assigned && !s->tp[1].assigned)
            csm_pset_remove(&r->ps, s->partition);
    }
    rd_kafka_assign(r->rk, NULL);
    csm_logf(CSM_LOG_INFO, "run", "revoked %d topic partitions; %zu partition numbers owned",
             parts->cnt, r->ps.n);
}

void csm_run_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    csm_run *r = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(r, parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        on_revoke(r, parts);
    } else {
        csm_logf(CSM_LOG_ERROR, "run", "rebalance error: %s", rd_kafka_err2str(err));
        on_revoke(r, parts);
    }
    r->tel_now.joined = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
}
