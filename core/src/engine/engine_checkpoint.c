/* The engine's checkpoint: everything that lets a restarted process (or
 * another instance after a rebalance) continue exactly where this one
 * stood. Written with every flush, in the same MULTI as the counters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "engine_internal.h"

/* Bumped whenever the layout below changes; an older process refuses a
 * newer checkpoint instead of misreading it. */
#define CHECKPOINT_MAGIC 0x43534d454e470002LL /* "CSMENG" + version 2 */

void csm_engine_event_put(csm_writer *w, const csm_event *ev)
{
    csm_writer_put_i64(w, ev->stream);
    csm_writer_put_str(w, ev->event_id);
    csm_writer_put_i64(w, ev->platform);
    csm_writer_put_str(w, ev->shop_id);
    csm_writer_put_str(w, ev->customer_id);
    csm_writer_put_i64(w, ev->ts);
    const csm_chat_fields *c = &ev->chat;
    csm_writer_put_i64(w, c->type);
    csm_writer_put_i64(w, c->sender);
    csm_writer_put_i64(w, c->msg_kind);
    csm_writer_put_i64(w, c->entry);
    csm_writer_put_str(w, c->agent_id);
    csm_writer_put_str(w, c->from_agent_id);
    csm_writer_put_str(w, c->group_id);
    csm_writer_put_str(w, c->order_id);
    csm_writer_put_str(w, c->intent);
    csm_writer_put_str(w, c->reason);
    csm_writer_put_i64(w, c->stars);
    csm_writer_put_i64(w, c->has_stars);
    const csm_order_fields *o = &ev->order;
    csm_writer_put_i64(w, o->type);
    csm_writer_put_str(w, o->order_id);
    csm_writer_put_i64(w, o->amount_cents);
    csm_writer_put_i64(w, o->has_amount);
    csm_writer_put_str(w, o->refund_id);
    csm_writer_put_str(w, o->logistics_status);
}

/* Reading helpers that stop at the first short read. */
typedef struct cursor {
    csm_reader *r;
    csm_event_slot *slot;
    int bad;
} cursor;

static int64_t get_i64(cursor *c)
{
    int64_t v = 0;
    if (!c->bad && csm_reader_get_i64(c->r, &v))
        c->bad = 1;
    return v;
}

static const char *get_str(cursor *c)
{
    const char *s = NULL;
    int64_t n = 0;
    if (c->bad || csm_reader_get_view(c->r, &s, &n)) {
        c->bad = 1;
        return NULL;
    }
    if (!s)
        return NULL;
    const char *copy = csm_event_slot_strndup(c->slot, s, (size_t)n);
    if (!copy)
        c->bad = 1;
    return copy;
}

int csm_engine_event_get(csm_reader *r, csm_event_slot *slot)
{
    cursor c = {r, slot, 0};
    int64_t stream = get_i64(&c);
    if (stream != CSM_STREAM_CHAT && stream != CSM_STREAM_ORDER)
        return -1;
    csm_event_slot_reset(slot, (csm_stream)stream);
    csm_event *ev = &slot->ev;
    ev->event_id = get_str(&c);
    ev->platform = (csm_platform)get_i64(&c);
    ev->shop_id = get_str(&c);
    ev->customer_id = get_str(&c);
    ev->ts = get_i64(&c);
    csm_chat_fields *ch = &ev->chat;
    ch->type = (csm_chat_type)get_i64(&c);
    ch->sender = (csm_sender)get_i64(&c);
    ch->msg_kind = (csm_msg_kind)get_i64(&c);
    ch->entry = (csm_entry)get_i64(&c);
    ch->agent_id = get_str(&c);
    ch->from_agent_id = get_str(&c);
    ch->group_id = get_str(&c);
    ch->order_id = get_str(&c);
    ch->intent = get_str(&c);
    ch->reason = get_str(&c);
    ch->stars = (int32_t)get_i64(&c);
    ch->has_stars = (int)get_i64(&c);
    csm_order_fields *o = &ev->order;
    o->type = (csm_order_type)get_i64(&c);
    o->order_id = get_str(&c);
    o->amount_cents = get_i64(&c);
    o->has_amount = (int)get_i64(&c);
    o->refund_id = get_str(&c);
    o->logistics_status = get_str(&c);
    return c.bad ? -1 : 0;
}

static void put_stats(csm_writer *w, const csm_engine_stats *s)
{
    const uint64_t *v = (const uint64_t *)s;
    for (size_t i = 0; i < sizeof *s / sizeof *v; i++)
        csm_writer_put_i64(w, (int64_t)v[i]);
}

static int get_stats(csm_reader *r, csm_engine_stats *s)
{
    uint64_t *v = (uint64_t *)s;
    for (size_t i = 0; i < sizeof *s / sizeof *v; i++) {
        int64_t x;
        if (csm_reader_get_i64(r, &x))
            return -1;
        v[i] = (uint64_t)x;
    }
    return 0;
}

static void put_buffer(csm_writer *w, const csm_reorder *buffer)
{
    size_t n = csm_reorder_count(buffer);
    csm_writer_put_i64(w, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        const csm_reorder_item *it = csm_reorder_at(buffer, i);
        csm_writer_put_i64(w, (int64_t)it->seq);
        csm_engine_event_put(w, &it->ev);
    }
}

static int get_buffer(csm_reader *r, csm_reorder *buffer)
{
    int64_t n, v;
    if (csm_reader_get_i64(r, &n) || n < 0)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        csm_event_slot slot;
        if (csm_reader_get_i64(r, &v) || csm_engine_event_get(r, &slot) ||
            csm_reorder_push(buffer, (uint64_t)v, &slot.ev))
            return -1;
    }
    return 0;
}

int csm_engine_snapshot(csm_engine *e, csm_writer *w)
{
    csm_writer_put_i64(w, CHECKPOINT_MAGIC);
    csm_writer_put_i64(w, e->event_time);
    csm_writer_put_i64(w, e->applied_max);
    csm_writer_put_i64(w, (int64_t)e->arrival_seq);
    put_stats(w, &e->stats);

    size_t n = csm_dedup_count(&e->dedup);
    csm_writer_put_i64(w, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        const csm_dedup_entry *d = csm_dedup_at(&e->dedup, i);
        csm_writer_put_i64(w, (int64_t)d->hash);
        csm_writer_put_i64(w, d->ts);
    }

    put_buffer(w, &e->buffer);

    csm_timers_snapshot(&e->timers, w);
    csm_alert_outbox_snapshot(&e->alerts, w);

    csm_writer_put_i64(w, (int64_t)e->chain->n);
    for (size_t i = 0; i < e->chain->n; i++) {
        const csm_plugin *p = e->chain->links[i].plugin;
        csm_writer_put_str(w, p->name);
        /* Length-prefixed, so a restore can tell a plugin that read too
         * little or too much from one that is fine. */
        size_t len_at = w->len;
        csm_writer_put_i64(w, 0);
        size_t start = w->len;
        if (p->snapshot && p->snapshot(e->ctx[i], &e->hosts[i], w) != 0)
            return -1;
        csm_writer_patch_i64(w, len_at, (int64_t)(w->len - start));
    }
    return 0;
}

/* A version without timestamp bounds could accept ts = 1 or INT64_MAX
 * and keep it as the partition's clock, so that every real event after
 * it fails the 7-day rule (or is late), restart after restart. Such a
 * checkpoint is refused: what it covers cannot be trusted, and resetting
 * the clock would leave the plugins' state (open sessions, timers) at
 * that time. docs/running.md says how to repair it. */
int csm_engine_check_clocks(const csm_engine *e, char *err, size_t errlen)
{
    const csm_time_bounds *b = NULL;
    csm_time_bounds clock_bounds;
    if (e->has_bounds) {
        /* A clock further behind than horizon + max_event_age would
         * refuse, by the 7-day rule, every event the horizon lets in. */
        clock_bounds = e->bounds;
        if (clock_bounds.horizon_ms > 0)
            clock_bounds.horizon_ms = csm_ts_add(clock_bounds.horizon_ms, e->cfg->max_event_age_ms);
        b = &clock_bounds;
    }
    const csm_ts clocks[2] = {e->event_time, e->applied_max};
    char why[256];
    for (int i = 0; i < 2; i++)
        if (clocks[i] != CSM_TS_NONE &&
            csm_time_bounds_check(b, clocks[i], e->wall_now, why, sizeof why)) {
            snprintf(err, errlen,
                     "checkpoint: event time %lld is out of bounds (%s): written by a version "
                     "that did not bound timestamps, or idle past the horizon; see \"A "
                     "checkpoint with an absurd event time\" in docs/running.md",
                     (long long)clocks[i], why);
            return -1;
        }
    return 0;
}

int csm_engine_restore(csm_engine *e, const void *data, size_t len, char *err, size_t errlen)
{
    csm_reader r;
    csm_reader_init(&r, data, len);
    int64_t magic, v;
    if (csm_reader_get_i64(&r, &magic) || magic != CHECKPOINT_MAGIC) {
        snprintf(err, errlen, "checkpoint: not a csmetrics engine checkpoint of this version");
        return -1;
    }
    if (csm_reader_get_i64(&r, &e->event_time) || csm_reader_get_i64(&r, &e->applied_max) ||
        csm_reader_get_i64(&r, &v) || get_stats(&r, &e->stats))
        goto corrupt;
    e->arrival_seq = (uint64_t)v;
    if (csm_engine_check_clocks(e, err, errlen))
        return -1;

    int64_t n;
    if (csm_reader_get_i64(&r, &n) || n < 0)
        goto corrupt;
    for (int64_t i = 0; i < n; i++) {
        int64_t hash, ts;
        if (csm_reader_get_i64(&r, &hash) || csm_reader_get_i64(&r, &ts))
            goto corrupt;
        csm_dedup_add(&e->dedup, (uint64_t)hash, ts);
    }

    if (get_buffer(&r, &e->buffer) || csm_timers_restore(&e->timers, &r) ||
        csm_alert_outbox_restore(&e->alerts, &r))
        goto corrupt;

    if (csm_reader_get_i64(&r, &n) || n != (int64_t)e->chain->n) {
        snprintf(err, errlen, "checkpoint: written by a chain of %lld plugins, this one has %zu",
                 (long long)n, e->chain->n);
        return -1;
    }
    for (size_t i = 0; i < e->chain->n; i++) {
        const csm_plugin *p = e->chain->links[i].plugin;
        const char *name;
        int64_t name_len, blob_len;
        if (csm_reader_get_view(&r, &name, &name_len) || !name ||
            csm_reader_get_i64(&r, &blob_len) || blob_len < 0 || (size_t)blob_len > r.len - r.pos)
            goto corrupt;
        if ((size_t)name_len != strlen(p->name) || memcmp(name, p->name, (size_t)name_len)) {
            snprintf(err, errlen, "checkpoint: plugin %zu is '%.*s', the chain has '%s'", i,
                     (int)name_len, name, p->name);
            return -1;
        }
        csm_reader sub;
        csm_reader_init(&sub, r.data + r.pos, (size_t)blob_len);
        if (p->restore && p->restore(e->ctx[i], &e->hosts[i], &sub) != 0) {
            snprintf(err, errlen, "checkpoint: plugin '%s' could not restore its state", p->name);
            return -1;
        }
        r.pos += (size_t)blob_len;
    }
    return 0;
corrupt:
    snprintf(err, errlen, "checkpoint: truncated or corrupt");
    return -1;
}

/* The incremental checkpoint's "engine" field: the clocks but W (its own
 * field, so an idle tick writes nothing else), stats, the timers'
 * counters, where the dedup log stands and the outbox. Buffered events
 * are records of their own (engine_state.c). */
void csm_engine_core_put(const csm_engine *e, uint64_t next_seg, csm_writer *w)
{
    uint64_t next_id, next_seq;
    csm_timers_counters(&e->timers, &next_id, &next_seq);
    csm_writer_put_i64(w, CSM_CKPT_ENGINE_MAGIC);
    csm_writer_put_i64(w, e->applied_max);
    csm_writer_put_i64(w, (int64_t)e->arrival_seq);
    put_stats(w, &e->stats);
    csm_writer_put_i64(w, (int64_t)next_id);
    csm_writer_put_i64(w, (int64_t)next_seq);
    csm_writer_put_i64(w, (int64_t)e->dedup.forgotten);
    csm_writer_put_i64(w, (int64_t)next_seg);
    csm_alert_outbox_snapshot(&e->alerts, w);
}

int csm_engine_core_get(csm_engine *e, csm_reader *r, uint64_t *next_seg, uint64_t *forgotten)
{
    int64_t v[6];
    if (csm_reader_get_i64(r, &v[0]) || v[0] != CSM_CKPT_ENGINE_MAGIC ||
        csm_reader_get_i64(r, &e->applied_max) || csm_reader_get_i64(r, &v[1]) ||
        get_stats(r, &e->stats))
        return -1;
    for (int i = 2; i < 6; i++)
        if (csm_reader_get_i64(r, &v[i]))
            return -1;
    e->arrival_seq = (uint64_t)v[1];
    csm_timers_set_counters(&e->timers, (uint64_t)v[2], (uint64_t)v[3]);
    *forgotten = (uint64_t)v[4];
    *next_seg = (uint64_t)v[5];
    return csm_alert_outbox_restore(&e->alerts, r);
}
