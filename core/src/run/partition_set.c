#include "partition_set.h"

#include <stdlib.h>
#include <string.h>

void csm_msgq_push(csm_msgq *q, rd_kafka_message_t *m)
{
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 256;
        rd_kafka_message_t **v = malloc(cap * sizeof *v);
        if (!v)
            abort();
        for (size_t i = 0; i < q->len; i++)
            v[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = v;
        q->cap = cap;
        q->head = 0;
    }
    q->v[(q->head + q->len) % q->cap] = m;
    q->len++;
}

rd_kafka_message_t *csm_msgq_peek(const csm_msgq *q)
{
    return q->len ? q->v[q->head] : NULL;
}

void csm_msgq_pop(csm_msgq *q)
{
    if (!q->len)
        return;
    rd_kafka_message_destroy(q->v[q->head]);
    q->head = (q->head + 1) % q->cap;
    q->len--;
}

void csm_msgq_clear(csm_msgq *q)
{
    while (q->len)
        csm_msgq_pop(q);
    q->head = 0;
}

void csm_msgq_free(csm_msgq *q)
{
    csm_msgq_clear(q);
    free(q->v);
    memset(q, 0, sizeof *q);
}

csm_pslot *csm_pset_get(const csm_pset *ps, int32_t partition)
{
    if (partition < 0 || (size_t)partition >= ps->cap)
        return NULL;
    return ps->by_part[partition];
}

csm_pslot *csm_pset_add(csm_pset *ps, int32_t partition)
{
    if (partition < 0)
        return NULL;
    if ((size_t)partition >= ps->cap) {
        size_t cap = ps->cap ? ps->cap : 16;
        while (cap <= (size_t)partition)
            cap *= 2;
        csm_pslot **v = realloc(ps->by_part, cap * sizeof *v);
        if (!v)
            abort();
        memset(v + ps->cap, 0, (cap - ps->cap) * sizeof *v);
        ps->by_part = v;
        ps->cap = cap;
    }
    if (ps->by_part[partition])
        return ps->by_part[partition];
    csm_pslot *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->partition = partition;
    s->w_last = CSM_TS_NONE;
    for (int t = 0; t < 2; t++) {
        s->tp[t].next = RD_KAFKA_OFFSET_BEGINNING;
        s->tp[t].fetched = -1;
    }
    ps->by_part[partition] = s;
    ps->n++;
    return s;
}

void csm_pset_remove(csm_pset *ps, int32_t partition)
{
    csm_pslot *s = csm_pset_get(ps, partition);
    if (!s)
        return;
    csm_engine_free(s->engine);
    for (int t = 0; t < 2; t++)
        csm_msgq_free(&s->tp[t].q);
    csm_ckpt_batch_free(&s->batch);
    free(s);
    ps->by_part[partition] = NULL;
    ps->n--;
}

void csm_pset_free(csm_pset *ps)
{
    for (size_t i = 0; i < ps->cap; i++)
        if (ps->by_part[i])
            csm_pset_remove(ps, (int32_t)i);
    free(ps->by_part);
    memset(ps, 0, sizeof *ps);
}

void csm_pslot_clear_queues(csm_pslot *s)
{
    for (int t = 0; t < 2; t++) {
        csm_msgq_clear(&s->tp[t].q);
        s->tp[t].head_ready = 0;
        s->tp[t].needs_schema = 0;
        s->tp[t].eof = 0;
    }
    s->wait_since_ms = 0;
}

/* Decodes the head, then asks the engine whether it would refuse it
 * whatever comes after (contract, timestamp bounds, 7-day rule): such a
 * head must not order the merge, or the other topic would be read far
 * ahead and its events become late. */
static void ensure_head(csm_tp *tp, int t, const csm_engine *e, csm_codec *codec,
                        csm_framing framing)
{
    if (tp->head_ready)
        return;
    const rd_kafka_message_t *m = csm_msgq_peek(&tp->q);
    tp->head_code = csm_codec_decode(codec, (csm_stream)t, framing, m->payload, m->len, &tp->head,
                                     tp->head_reason, sizeof tp->head_reason);
    tp->needs_schema = tp->head_code == CSM_DECODE_NEED_SCHEMA;
    if (tp->needs_schema) {
        tp->schema_id = csm_codec_needed_id(codec);
        return; /* decoded again once the schema is there */
    }
    tp->head_bad = tp->head_code != 0;
    if (tp->head_bad && !tp->head_reason[0])
        strcpy(tp->head_reason, "undecodable");
    tp->head_refused = !tp->head_bad &&
                       csm_engine_precheck_decoded(e, &tp->head.ev, tp->head_reason,
                                                   sizeof tp->head_reason) != CSM_VERDICT_ACCEPTED;
    tp->head_ready = 1;
}

int csm_pslot_pick(csm_pslot *s, csm_codec *codec, csm_framing framing, int64_t now_ms)
{
    int have[2];
    for (int t = 0; t < 2; t++) {
        have[t] = s->tp[t].q.len > 0;
        if (have[t]) {
            ensure_head(&s->tp[t], t, s->engine, codec, framing);
            if (s->tp[t].needs_schema)
                return -1;
            if (s->tp[t].head_bad || s->tp[t].head_refused)
                return t;
        }
    }
    if (have[0] && have[1]) {
        s->wait_since_ms = 0;
        /* Ties go to chat so the order is the same on every run. */
        return s->tp[CSM_STREAM_ORDER].head.ev.ts < s->tp[CSM_STREAM_CHAT].head.ev.ts
                   ? CSM_STREAM_ORDER
                   : CSM_STREAM_CHAT;
    }
    if (!have[0] && !have[1]) {
        s->wait_since_ms = 0;
        return -1;
    }
    int t = have[0] ? 0 : 1;
    const csm_tp *other = &s->tp[1 - t];
    if (!other->assigned || other->eof) {
        s->wait_since_ms = 0;
        return t;
    }
    /* The other topic has not reached the end of its log: its next event
     * may be older than this head. Going on would make it late (a stalled
     * fetch of one topic once dead-lettered thousands of events this way),
     * so the head waits for as long as the other topic is behind, as a
     * Kafka Streams task does; the run loop says so when it lasts. */
    if (!s->wait_since_ms)
        s->wait_since_ms = now_ms;
    return -1;
}

int csm_pslot_needs_schema(const csm_pslot *s)
{
    return s->tp[0].needs_schema || s->tp[1].needs_schema;
}

void csm_pslot_consume_head(csm_pslot *s, int t)
{
    csm_tp *tp = &s->tp[t];
    const rd_kafka_message_t *m = csm_msgq_peek(&tp->q);
    if (!m)
        return;
    tp->next = m->offset + 1;
    csm_msgq_pop(&tp->q);
    tp->head_ready = 0;
}
