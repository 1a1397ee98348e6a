/* Incremental checkpoints, the writing side: the engine remembers which
 * entries of which plugin changed since the last committed flush, and
 * turns exactly those into records (docs/architecture.md, "Checkpoints").
 * A record is the plugin's save_entry() bytes plus the pending timers of
 * that (plugin, key), so timers never need a record of their own. */
#include "engine_state.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "ckpt_batch.h"
#include "engine_internal.h"
#include "reorder.h"

void csm_engine_state_free(csm_engine_state *s)
{
    for (size_t i = 0; i < CSM_MAX_PLUGINS; i++) {
        csm_keyset_free(&s->dirty[i]);
        csm_keyset_free(&s->cut.dirty[i]);
    }
    free(s->segs);
    free(s->unbuffered);
    free(s->drop);
    memset(s, 0, sizeof *s);
}

void csm_engine_state_touch(csm_engine *e, uint32_t plugin, uint64_t key)
{
    csm_engine_state *s = &e->ckst;
    if (s->off || s->loading || plugin >= CSM_MAX_PLUGINS)
        return;
    csm_keyset_add(&s->dirty[plugin], key);
    s->epoch++;
}

void csm_engine_state_changed(csm_engine *e)
{
    e->ckst.core_dirty = 1;
    e->ckst.epoch++;
}

void csm_engine_state_applied(csm_engine *e)
{
    e->ckst.applied = 1;
    csm_engine_state_changed(e);
}

void csm_engine_state_unbuffered(csm_engine *e, uint64_t seq)
{
    csm_engine_state *s = &e->ckst;
    /* The flush in flight stores what arrived before its cut. */
    uint64_t stored_below = s->cut.active ? s->cut.arrival_seq : s->buffer_upto;
    if (s->off || seq >= stored_below)
        return; /* never stored */
    if (s->n_unbuffered == s->cap_unbuffered) {
        s->cap_unbuffered = s->cap_unbuffered ? s->cap_unbuffered * 2 : 256;
        s->unbuffered = realloc(s->unbuffered, s->cap_unbuffered * sizeof *s->unbuffered);
        if (!s->unbuffered)
            abort();
    }
    s->unbuffered[s->n_unbuffered++] = seq;
}

void csm_engine_state_clock(csm_engine *e)
{
    e->ckst.epoch++;
}

void csm_engine_ckpt_off(csm_engine *e)
{
    e->ckst.off = 1;
}

uint64_t csm_engine_state_epoch(const csm_engine *e)
{
    return e->ckst.epoch;
}

int csm_plugin_has_entries(const csm_plugin *p)
{
    return p->struct_size >= offsetof(csm_plugin, load_entry) + sizeof p->load_entry &&
           p->save_entry && p->load_entry;
}

uint32_t csm_plugin_state_version(const csm_plugin *p)
{
    if (p->struct_size < offsetof(csm_plugin, state_version) + sizeof p->state_version)
        return 0;
    return p->state_version;
}

static void outbox_sig(const csm_alert_outbox *o, uint64_t sig[3])
{
    const csm_alert_rec *first = csm_alert_outbox_at(o, 0);
    sig[0] = csm_alert_outbox_count(o);
    sig[1] = first ? first->seq : 0;
    sig[2] = o->last_seq;
}

/* ---- the dedup log ---- */

/* The entries accepted since the last segment, as a new segment: its
 * first absolute position, then (hash, ts) pairs in acceptance order. */
static void build_dedup(csm_engine *e, csm_ckpt_batch *b)
{
    csm_engine_state *s = &e->ckst;
    const csm_dedup *d = &e->dedup;
    uint16_t sec = csm_ckpt_batch_section(b, "dedup");
    char field[CSM_CKPT_FIELD_MAX];
    uint64_t from = s->dedup_written > d->forgotten ? s->dedup_written : d->forgotten;
    s->pending = (csm_dedup_seg){0, 0};
    if (d->added > from) {
        size_t at = b->bytes.len;
        csm_writer_put_i64(&b->bytes, (int64_t)from);
        for (uint64_t pos = from; pos < d->added; pos++) {
            const csm_dedup_entry *x = csm_dedup_at_pos(d, pos);
            csm_writer_put_i64(&b->bytes, (int64_t)x->hash);
            csm_writer_put_i64(&b->bytes, x->ts);
        }
        snprintf(field, sizeof field, "%" PRIu64, s->next_seg);
        csm_ckpt_batch_hset_from(b, sec, field, at);
        s->pending = (csm_dedup_seg){s->next_seg, d->added};
    }
    /* A segment goes once every entry in it is forgotten. */
    for (size_t i = 0; i < s->n_segs && s->segs[i].end <= d->forgotten; i++) {
        snprintf(field, sizeof field, "%" PRIu64, s->segs[i].no);
        csm_ckpt_batch_hdel(b, sec, field);
    }
}

void csm_engine_state_push_seg(csm_engine_state *s, csm_dedup_seg seg)
{
    if (s->n_segs == s->cap_segs) {
        s->cap_segs = s->cap_segs ? s->cap_segs * 2 : 64;
        s->segs = realloc(s->segs, s->cap_segs * sizeof *s->segs);
        if (!s->segs)
            abort();
    }
    s->segs[s->n_segs++] = seg;
}

static void commit_dedup(csm_engine *e, uint64_t forgotten)
{
    csm_engine_state *s = &e->ckst;
    size_t gone = 0;
    while (gone < s->n_segs && s->segs[gone].end <= forgotten)
        gone++;
    if (gone) {
        memmove(s->segs, s->segs + gone, (s->n_segs - gone) * sizeof *s->segs);
        s->n_segs -= gone;
    }
    if (s->pending.end) {
        csm_engine_state_push_seg(s, s->pending);
        s->next_seg = s->pending.no + 1;
        s->dedup_written = s->pending.end;
        s->pending = (csm_dedup_seg){0, 0};
    }
}

/* ---- the reorder buffer ---- */

/* Events still waiting that arrived since the last flush are written once
 * each; those applied since, that an earlier flush wrote, are deleted. */
static void build_buffer(csm_engine *e, csm_ckpt_batch *b)
{
    csm_engine_state *s = &e->ckst;
    uint16_t sec = csm_ckpt_batch_section(b, "buffer");
    char field[CSM_CKPT_FIELD_MAX];
    for (size_t i = 0, n = csm_reorder_count(&e->buffer); i < n; i++) {
        const csm_reorder_item *it = csm_reorder_at(&e->buffer, i);
        if (it->seq < s->buffer_upto)
            continue;
        size_t at = b->bytes.len;
        csm_engine_event_put(&b->bytes, &it->ev);
        snprintf(field, sizeof field, "%" PRIu64, it->seq);
        csm_ckpt_batch_hset_from(b, sec, field, at);
    }
    for (size_t i = 0; i < s->n_unbuffered; i++) {
        snprintf(field, sizeof field, "%" PRIu64, s->unbuffered[i]);
        csm_ckpt_batch_hdel(b, sec, field);
    }
}

/* ---- the engine's own fields ---- */

static void build_plugins_field(const csm_engine *e, csm_ckpt_batch *b, uint16_t sec)
{
    size_t at = b->bytes.len;
    char item[160];
    for (size_t i = 0; i < e->chain->n; i++) {
        const csm_plugin *p = e->chain->links[i].plugin;
        int n = snprintf(item, sizeof item, "%s%s=%" PRIu32, i ? "," : "", p->name,
                         csm_plugin_state_version(p));
        csm_writer_put_bytes(&b->bytes, item, (size_t)n);
    }
    csm_ckpt_batch_hset_from(b, sec, "plugins", at);
}

/* An idle tick that only moved the clock writes event_time alone. */
static void build_core(csm_engine *e, csm_ckpt_batch *b)
{
    csm_engine_state *s = &e->ckst;
    uint16_t sec = csm_ckpt_batch_section(b, "");
    uint64_t sig[3];
    outbox_sig(&e->alerts, sig);
    if (s->core_dirty || memcmp(sig, s->outbox_sig, sizeof sig)) {
        size_t at = b->bytes.len;
        uint64_t next_seg = s->pending.end ? s->pending.no + 1 : s->next_seg;
        csm_engine_core_put(e, next_seg, &b->bytes);
        csm_ckpt_batch_hset_from(b, sec, "engine", at);
    }
    if (!s->event_time_written || s->written_event_time != e->event_time) {
        char v[24] = "";
        if (e->event_time != CSM_TS_NONE)
            snprintf(v, sizeof v, "%" PRId64, e->event_time);
        csm_ckpt_batch_hset(b, sec, "event_time", v, strlen(v));
    }
    if (s->meta_dirty)
        build_plugins_field(e, b, sec);
}

/* ---- plugin records ---- */

typedef struct record_ctx {
    csm_engine *e;
    csm_ckpt_batch *b;
    uint32_t plugin;
    uint16_t sec;
    int64_t n_timers;
    char *err;
    size_t errlen;
} record_ctx;

static void put_timer(void *arg, const csm_timer_saved *t)
{
    record_ctx *c = arg;
    csm_writer *w = &c->b->bytes;
    csm_writer_put_i64(w, (int64_t)t->id);
    csm_writer_put_i64(w, (int64_t)t->seq);
    csm_writer_put_i64(w, t->deadline);
    csm_writer_put_i64(w, t->tag);
    c->n_timers++;
}

/* The entry's bytes, length-prefixed; -1 alone when there is none.
 * Returns 1 written, 0 none, -1 the plugin failed. */
static int put_entry(record_ctx *c, uint64_t key)
{
    csm_writer *w = &c->b->bytes;
    const csm_plugin *p = c->e->chain->links[c->plugin].plugin;
    size_t len_at = w->len;
    csm_writer_put_i64(w, -1);
    if (!csm_plugin_has_entries(p))
        return 0;
    int rc = p->save_entry(c->e->ctx[c->plugin], &c->e->hosts[c->plugin], key, w);
    if (rc < 0) {
        snprintf(c->err, c->errlen, "plugin '%s' failed to save its entry %" PRIu64, p->name, key);
        return -1;
    }
    if (rc == 1) {
        w->len = len_at + 8;
        return 0;
    }
    csm_writer_patch_i64(w, len_at, (int64_t)(w->len - len_at - 8));
    return 1;
}

/* Record layout: i64 entry length (-1: none) + entry bytes, i64 number of
 * timers, then (id, creation seq, deadline, tag) per timer. */
static int save_record(void *arg, uint64_t key)
{
    record_ctx *c = arg;
    csm_writer *w = &c->b->bytes;
    size_t from = w->len;
    int has = put_entry(c, key);
    if (has < 0)
        return -1;
    size_t n_at = w->len;
    csm_writer_put_i64(w, 0);
    c->n_timers = 0;
    csm_timers_foreach_of(&c->e->timers, c->plugin, key, put_timer, c);
    csm_writer_patch_i64(w, n_at, c->n_timers);
    char field[CSM_CKPT_FIELD_MAX];
    snprintf(field, sizeof field, "%" PRIu64, key);
    if (!has && !c->n_timers) {
        w->len = from;
        csm_ckpt_batch_hdel(c->b, c->sec, field);
    } else {
        csm_ckpt_batch_hset_from(c->b, c->sec, field, from);
    }
    return 0;
}

/* A plugin without entries: its snapshot() whole, once anything ran. */
static int save_whole(record_ctx *c)
{
    const csm_plugin *p = c->e->chain->links[c->plugin].plugin;
    if (!c->e->ckst.applied || !p->snapshot)
        return 0;
    size_t at = c->b->bytes.len;
    if (p->snapshot(c->e->ctx[c->plugin], &c->e->hosts[c->plugin], &c->b->bytes) != 0) {
        snprintf(c->err, c->errlen, "plugin '%s': snapshot failed", p->name);
        return -1;
    }
    csm_ckpt_batch_hset_from(c->b, c->sec, "snapshot", at);
    return 0;
}

static int build_plugin(csm_engine *e, csm_ckpt_batch *b, uint32_t i, char *err, size_t errlen)
{
    const csm_plugin *p = e->chain->links[i].plugin;
    char name[CSM_CKPT_SECTION_MAX];
    csm_ckpt_plugin_section(name, p->name);
    record_ctx c = {e, b, i, csm_ckpt_batch_section(b, name), 0, err, errlen};
    if (!csm_plugin_has_entries(p) && save_whole(&c))
        return -1;
    return csm_keyset_foreach(&e->ckst.dirty[i], save_record, &c) ? -1 : 0;
}

static void drop_section(csm_ckpt_batch *b, const char *section)
{
    csm_ckpt_batch_drop(b, csm_ckpt_batch_section(b, section));
}

int csm_engine_ckpt_build(csm_engine *e, csm_ckpt_batch *b, char *err, size_t errlen)
{
    csm_ckpt_batch_reset(b);
    if (e->ckst.reset) {
        drop_section(b, "dedup");
        drop_section(b, "buffer");
    }
    build_dedup(e, b);
    build_buffer(e, b);
    build_core(e, b);
    for (uint32_t i = 0; i < e->chain->n; i++)
        if (build_plugin(e, b, i, err, errlen))
            return -1;
    char name[CSM_CKPT_SECTION_MAX];
    for (size_t i = 0; i < e->ckst.n_drop; i++) {
        csm_ckpt_plugin_section(name, e->ckst.drop[i]);
        drop_section(b, name);
    }
    return 0;
}

static int add_key(void *arg, uint64_t key)
{
    csm_keyset_add(arg, key);
    return 0;
}

void csm_engine_ckpt_cut(csm_engine *e)
{
    csm_engine_state *s = &e->ckst;
    csm_ckpt_cut *c = &s->cut;
    /* Swapped, not copied: the live sets start empty and keep the memory
     * the previous cut's sets grew. */
    for (size_t i = 0; i < e->chain->n; i++) {
        csm_keyset t = c->dirty[i];
        c->dirty[i] = s->dirty[i];
        s->dirty[i] = t;
        csm_keyset_clear(&s->dirty[i]);
    }
    c->core_dirty = s->core_dirty;
    c->applied = s->applied;
    c->meta_dirty = s->meta_dirty;
    s->core_dirty = s->applied = s->meta_dirty = 0;
    c->forgotten = e->dedup.forgotten;
    c->arrival_seq = e->arrival_seq;
    c->n_unbuffered = s->n_unbuffered;
    outbox_sig(&e->alerts, c->outbox_sig);
    c->event_time = e->event_time;
    c->n_drop = s->n_drop;
    c->reset = s->reset;
    s->reset = 0;
    csm_deltas_swap_pending(e->deltas, e->frozen);
    c->active = 1;
}

void csm_engine_ckpt_uncut(csm_engine *e)
{
    csm_engine_state *s = &e->ckst;
    csm_ckpt_cut *c = &s->cut;
    if (!c->active)
        return;
    /* No epoch bump: the state is what it was, so a lost reply whose
     * transaction applied still matches the writer it wrote. */
    for (size_t i = 0; i < e->chain->n; i++) {
        csm_keyset_foreach(&c->dirty[i], add_key, &s->dirty[i]);
        csm_keyset_clear(&c->dirty[i]);
    }
    s->core_dirty |= c->core_dirty;
    s->applied |= c->applied;
    s->meta_dirty |= c->meta_dirty;
    s->reset |= c->reset;
    csm_deltas_unfreeze(e->deltas, e->frozen);
    c->active = 0;
}

/* The list of applied buffered events, once written, is given back when
 * a burst grew it to four times what it still holds. */
#define KEEP_UNBUFFERED 256

static void shrink_unbuffered(csm_engine_state *s)
{
    if (s->cap_unbuffered <= KEEP_UNBUFFERED || s->n_unbuffered * 4 >= s->cap_unbuffered)
        return;
    if (!s->n_unbuffered) {
        free(s->unbuffered);
        s->unbuffered = NULL;
        s->cap_unbuffered = 0;
        return;
    }
    size_t cap = s->n_unbuffered * 2 > KEEP_UNBUFFERED ? s->n_unbuffered * 2 : KEEP_UNBUFFERED;
    uint64_t *p = realloc(s->unbuffered, cap * sizeof *p);
    if (p) {
        s->unbuffered = p;
        s->cap_unbuffered = cap;
    }
}

void csm_engine_ckpt_committed(csm_engine *e)
{
    csm_engine_state *s = &e->ckst;
    csm_ckpt_cut *c = &s->cut;
    if (!c->active) {
        /* Everything up to now; the caller keeps its deltas. */
        csm_engine_ckpt_cut(e);
        csm_deltas_swap_pending(e->deltas, e->frozen);
    }
    commit_dedup(e, c->forgotten);
    s->buffer_upto = c->arrival_seq;
    /* Applied since the cut: still to delete by the next batch. */
    s->n_unbuffered -= c->n_unbuffered;
    if (c->n_unbuffered && s->n_unbuffered)
        memmove(s->unbuffered, s->unbuffered + c->n_unbuffered,
                s->n_unbuffered * sizeof *s->unbuffered);
    shrink_unbuffered(s);
    for (size_t i = 0; i < e->chain->n; i++)
        csm_keyset_clear(&c->dirty[i]);
    memcpy(s->outbox_sig, c->outbox_sig, sizeof s->outbox_sig);
    s->event_time_written = 1;
    s->written_event_time = c->event_time;
    s->n_drop -= c->n_drop;
    if (c->n_drop && s->n_drop)
        memmove(s->drop, s->drop + c->n_drop, s->n_drop * sizeof *s->drop);
    csm_deltas_clear(e->frozen);
    c->active = 0;
}

void csm_engine_state_loaded(csm_engine *e)
{
    csm_engine_state *s = &e->ckst;
    s->core_dirty = s->applied = 0;
    s->buffer_upto = e->arrival_seq;
    s->event_time_written = 1;
    s->written_event_time = e->event_time;
    outbox_sig(&e->alerts, s->outbox_sig);
}
