/* Incremental checkpoints, the reading side: a fresh engine takes the
 * engine's fields, then every chain plugin's records by name, then the
 * dedup log. Plugins are matched by name, never by position: one the
 * checkpoint does not know starts empty, one the chain no longer has is
 * dropped at the next flush, and the chain's order does not matter. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "ckpt_batch.h"
#include "engine_internal.h"
#include "log.h"

#define LOAD_REFUSED -2

/* The checkpoint hash's fields that concern the engine (copies). */
typedef struct core_fields {
    char *engine, *plugins, *event_time;
    size_t engine_len;
    int legacy; /* a whole-snapshot "state" field of an older version */
} core_fields;

static char *copy_value(const void *v, size_t len, size_t *out_len)
{
    char *c = malloc(len + 1);
    if (!c)
        abort();
    memcpy(c, v, len);
    c[len] = 0;
    if (out_len)
        *out_len = len;
    return c;
}

static int field_is(const char *f, size_t len, const char *name)
{
    return len == strlen(name) && !memcmp(f, name, len);
}

static int visit_core(void *arg, const char *f, size_t flen, const void *v, size_t vlen)
{
    core_fields *c = arg;
    if (field_is(f, flen, "engine") && !c->engine)
        c->engine = copy_value(v, vlen, &c->engine_len);
    else if (field_is(f, flen, "plugins") && !c->plugins)
        c->plugins = copy_value(v, vlen, NULL);
    else if (field_is(f, flen, "event_time") && !c->event_time)
        c->event_time = copy_value(v, vlen, NULL);
    else if (field_is(f, flen, "state"))
        c->legacy = 1;
    return 0;
}

static void core_fields_free(core_fields *c)
{
    free(c->engine);
    free(c->plugins);
    free(c->event_time);
}

/* Loading: which chain plugin each stored name is, and the dedup log. */
typedef struct load_ctx {
    csm_engine *e;
    uint32_t plugin;
    uint32_t version[CSM_MAX_PLUGINS];
    unsigned char stored[CSM_MAX_PLUGINS];
    uint64_t forgotten, next_seg;
    struct seg_copy {
        uint64_t no;
        char *data;
        size_t len;
    } * segs;
    size_t n_segs, cap_segs;
    char *err;
    size_t errlen;
} load_ctx;

static int refuse(load_ctx *c, const char *what)
{
    snprintf(c->err, c->errlen, "checkpoint: %s", what);
    return LOAD_REFUSED;
}

static int load_event_time(load_ctx *c, const char *s)
{
    csm_engine *e = c->e;
    e->event_time = CSM_TS_NONE;
    if (s && *s) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
            return refuse(c, "malformed event_time");
        e->event_time = v;
    }
    return 0;
}

/* The next flush deletes the plugin's records hash. */
static void drop_at_flush(csm_engine_state *s, const char *name, size_t len)
{
    s->drop = realloc(s->drop, (s->n_drop + 1) * sizeof *s->drop);
    if (!s->drop)
        abort();
    snprintf(s->drop[s->n_drop++], sizeof *s->drop, "%.*s", (int)len, name);
}

static void note_dropped(load_ctx *c, const char *name, size_t len)
{
    csm_logf(CSM_LOG_WARN, "checkpoint",
             "partition %d: plugin '%.*s' has state in the checkpoint but is not in the chain: "
             "its state is dropped at the next flush",
             (int)c->e->partition, (int)len, name);
    drop_at_flush(&c->e->ckst, name, len);
}

/* A plugin the checkpoint does not list starts empty: records under its
 * name belong to no checkpoint (left by a damaged or deleted checkpoint
 * hash) and must not be read by the next load. */
static void drop_unlisted(csm_engine *e, const unsigned char *stored)
{
    for (size_t i = 0; i < e->chain->n; i++)
        if (!stored || !stored[i]) {
            const char *name = e->chain->links[i].plugin->name;
            drop_at_flush(&e->ckst, name, strlen(name));
        }
}

static ptrdiff_t chain_index(const csm_chain *ch, const char *name, size_t len)
{
    for (size_t i = 0; i < ch->n; i++)
        if (field_is(name, len, ch->links[i].plugin->name))
            return (ptrdiff_t)i;
    return -1;
}

/* A stored state version newer than the plugin's cannot be read; a plugin
 * without entries reads only its own. */
static int check_version(load_ctx *c, const csm_plugin *p, uint32_t stored)
{
    uint32_t mine = csm_plugin_state_version(p);
    if (stored <= mine && (csm_plugin_has_entries(p) || stored == mine))
        return 0;
    snprintf(c->err, c->errlen,
             "checkpoint: plugin '%s' cannot read its state: it was written with state version "
             "%" PRIu32 ", this plugin (version %s) reads state version %" PRIu32 "%s",
             p->name, stored, p->version ? p->version : "?", mine,
             stored > mine ? " and older: run the newer plugin" : " only");
    return LOAD_REFUSED;
}

/* "name=version,name=version": which plugins wrote state, and how. */
static int match_plugins(load_ctx *c, const char *list)
{
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ','), *eq = strchr(p, '=');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (!eq || eq >= p + len)
            return refuse(c, "malformed plugins field");
        ptrdiff_t at = chain_index(c->e->chain, p, (size_t)(eq - p));
        uint32_t version = (uint32_t)strtoul(eq + 1, NULL, 10);
        if (at < 0) {
            note_dropped(c, p, (size_t)(eq - p));
        } else {
            if (check_version(c, c->e->chain->links[at].plugin, version))
                return LOAD_REFUSED;
            c->stored[at] = 1;
            c->version[at] = version;
        }
        p = comma ? comma + 1 : p + len;
    }
    return 0;
}

static void log_new_plugins(const load_ctx *c, const char *where)
{
    for (size_t i = 0; i < c->e->chain->n; i++)
        if (!c->stored[i])
            csm_logf(CSM_LOG_INFO, "checkpoint",
                     "partition %d: plugin '%s' is new to this checkpoint: its figures start at "
                     "%s",
                     (int)c->e->partition, c->e->chain->links[i].plugin->name,
                     where && *where ? where : "the checkpoint's offsets");
}

/* ---- records ---- */

static int parse_key(const char *f, size_t len, uint64_t *key)
{
    if (!len || len >= CSM_CKPT_FIELD_MAX)
        return -1;
    char buf[CSM_CKPT_FIELD_MAX];
    memcpy(buf, f, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || *end || buf[0] == '-')
        return -1;
    *key = v;
    return 0;
}

static int bad_record(load_ctx *c, const char *f, size_t flen, const char *why)
{
    snprintf(c->err, c->errlen, "checkpoint: plugin '%s' record '%.*s': %s",
             c->e->chain->links[c->plugin].plugin->name, (int)flen, f, why);
    return LOAD_REFUSED;
}

static int load_whole(load_ctx *c, const void *v, size_t vlen)
{
    csm_engine *e = c->e;
    const csm_plugin *p = e->chain->links[c->plugin].plugin;
    csm_reader r;
    csm_reader_init(&r, v, vlen);
    if (csm_plugin_has_entries(p) || !p->restore ||
        p->restore(e->ctx[c->plugin], &e->hosts[c->plugin], &r) != 0)
        return bad_record(c, "snapshot", 8, "the plugin could not restore it");
    return 0;
}

static int load_timers(load_ctx *c, csm_reader *r, uint64_t key)
{
    int64_t n, x[4];
    if (csm_reader_get_i64(r, &n) || n < 0)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++)
            if (csm_reader_get_i64(r, &x[k]))
                return -1;
        csm_timer_saved t = {(uint64_t)x[0], (uint64_t)x[1], x[2], (uint32_t)x[3]};
        csm_timers_restore_one(&c->e->timers, &t, c->plugin, key);
    }
    return r->pos == r->len ? 0 : -1;
}

static int visit_record(void *arg, const char *f, size_t flen, const void *v, size_t vlen)
{
    load_ctx *c = arg;
    csm_engine *e = c->e;
    const csm_plugin *p = e->chain->links[c->plugin].plugin;
    if (field_is(f, flen, "snapshot"))
        return load_whole(c, v, vlen);
    uint64_t key;
    csm_reader r;
    int64_t len;
    csm_reader_init(&r, v, vlen);
    if (parse_key(f, flen, &key) || csm_reader_get_i64(&r, &len) || len < -1 ||
        (len > 0 && (size_t)len > r.len - r.pos))
        return bad_record(c, f, flen, "truncated or corrupt");
    if (len >= 0) {
        csm_reader entry;
        csm_reader_init(&entry, r.data + r.pos, (size_t)len);
        if (!csm_plugin_has_entries(p) || p->load_entry(e->ctx[c->plugin], &e->hosts[c->plugin],
                                                        key, c->version[c->plugin], &entry) != 0)
            return bad_record(c, f, flen, "the plugin cannot read this entry");
        r.pos += (size_t)len;
    }
    return load_timers(c, &r, key) ? bad_record(c, f, flen, "corrupt timers") : 0;
}

/* ---- the reorder buffer ---- */

static int visit_buffered(void *arg, const char *f, size_t flen, const void *v, size_t vlen)
{
    load_ctx *c = arg;
    uint64_t seq;
    csm_reader r;
    csm_reader_init(&r, v, vlen);
    csm_event_slot slot;
    if (parse_key(f, flen, &seq) || csm_engine_event_get(&r, &slot) || r.pos != r.len ||
        csm_reorder_push(&c->e->buffer, seq, &slot.ev))
        return refuse(c, "corrupt buffered event");
    return 0;
}

/* ---- the dedup log ---- */

static int visit_seg(void *arg, const char *f, size_t flen, const void *v, size_t vlen)
{
    load_ctx *c = arg;
    uint64_t no;
    if (parse_key(f, flen, &no) || vlen < 8 || (vlen - 8) % 16)
        return refuse(c, "corrupt dedup segment");
    if (c->n_segs == c->cap_segs) {
        c->cap_segs = c->cap_segs ? c->cap_segs * 2 : 64;
        c->segs = realloc(c->segs, c->cap_segs * sizeof *c->segs);
        if (!c->segs)
            abort();
    }
    c->segs[c->n_segs++] = (struct seg_copy){no, copy_value(v, vlen, NULL), vlen};
    return 0;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct seg_copy *x = a, *y = b;
    return x->no < y->no ? -1 : x->no > y->no;
}

/* Replays the segments in order, skipping what was already forgotten. */
static void restore_dedup(load_ctx *c)
{
    csm_engine *e = c->e;
    csm_engine_state *s = &e->ckst;
    if (c->n_segs)
        qsort(c->segs, c->n_segs, sizeof *c->segs, cmp_seg);
    csm_dedup_set_base(&e->dedup, c->forgotten);
    for (size_t i = 0; i < c->n_segs; i++) {
        csm_reader r;
        int64_t start, hash, ts;
        csm_reader_init(&r, c->segs[i].data, c->segs[i].len);
        csm_reader_get_i64(&r, &start);
        uint64_t pos = (uint64_t)start;
        for (; !csm_reader_get_i64(&r, &hash) && !csm_reader_get_i64(&r, &ts); pos++)
            if (pos >= e->dedup.added)
                csm_dedup_add(&e->dedup, (uint64_t)hash, ts);
        csm_engine_state_push_seg(s, (csm_dedup_seg){c->segs[i].no, pos});
        free(c->segs[i].data);
    }
    free(c->segs);
    c->segs = NULL;
    c->n_segs = 0;
    s->dedup_written = e->dedup.added;
    s->next_seg = c->next_seg;
}

/* ---- the whole load ---- */

static int load_core(load_ctx *c, const core_fields *f)
{
    csm_reader r;
    csm_reader_init(&r, f->engine, f->engine_len);
    if (csm_engine_core_get(c->e, &r, &c->next_seg, &c->forgotten) || r.pos != r.len)
        return refuse(c, "the engine field is truncated, corrupt or of another version");
    if (load_event_time(c, f->event_time))
        return LOAD_REFUSED;
    return csm_engine_check_clocks(c->e, c->err, c->errlen) ? LOAD_REFUSED : 0;
}

static int load_plugins(load_ctx *c, const csm_ckpt_source *src)
{
    char section[CSM_CKPT_SECTION_MAX];
    for (uint32_t i = 0; i < c->e->chain->n; i++) {
        if (!c->stored[i])
            continue;
        c->plugin = i;
        csm_ckpt_plugin_section(section, c->e->chain->links[i].plugin->name);
        int rc = src->scan(src->arg, section, visit_record, c, c->err, c->errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static int finish(load_ctx *c)
{
    csm_engine *e = c->e;
    restore_dedup(c);
    for (uint32_t i = 0; i < e->chain->n; i++) {
        const csm_plugin *p = e->chain->links[i].plugin;
        if (csm_plugin_has_entries(p) && p->load_done &&
            p->load_done(e->ctx[i], &e->hosts[i]) != 0) {
            snprintf(c->err, c->errlen, "checkpoint: plugin '%s' refused its loaded state",
                     p->name);
            return LOAD_REFUSED;
        }
    }
    return 0;
}

static int load_stored(load_ctx *c, const csm_ckpt_source *src, const core_fields *f,
                       const char *where)
{
    int rc = load_core(c, f);
    if (!rc)
        rc = match_plugins(c, f->plugins);
    if (!rc)
        rc = load_plugins(c, src);
    if (!rc)
        rc = src->scan(src->arg, "buffer", visit_buffered, c, c->err, c->errlen);
    if (!rc)
        rc = src->scan(src->arg, "dedup", visit_seg, c, c->err, c->errlen);
    if (!rc)
        rc = finish(c);
    if (!rc) {
        log_new_plugins(c, where);
        drop_unlisted(c->e, c->stored);
    }
    for (size_t i = 0; i < c->n_segs; i++)
        free(c->segs[i].data);
    free(c->segs);
    return rc;
}

_Static_assert(CSM_CKPT_SECTION_MAX == 96, "engine.h declares the section size");

size_t csm_engine_ckpt_sections(const csm_chain *chain, char (*out)[CSM_CKPT_SECTION_MAX],
                                size_t max)
{
    size_t n = 0;
    if (n < max)
        out[n++][0] = 0;
    for (size_t i = 0; i < chain->n && n < max; i++)
        csm_ckpt_plugin_section(out[n++], chain->links[i].plugin->name);
    static const char *const tail[] = {"buffer", "dedup"};
    for (size_t i = 0; i < 2 && n < max; i++)
        snprintf(out[n++], CSM_CKPT_SECTION_MAX, "%s", tail[i]);
    return n;
}

int csm_engine_ckpt_load(csm_engine *e, const csm_ckpt_source *src, const char *where, char *err,
                         size_t errlen)
{
    core_fields f = {0};
    int rc = src->scan(src->arg, "", visit_core, &f, err, errlen);
    if (!rc && f.legacy && !f.engine) {
        snprintf(err, errlen,
                 "checkpoint: written whole by a version before per-plugin checkpoints; see "
                 "\"Upgrading to per-plugin checkpoints\" in docs/running.md");
        rc = LOAD_REFUSED;
    }
    if (!rc && f.engine) {
        load_ctx c = {.e = e, .err = err, .errlen = errlen};
        e->ckst.loading = 1;
        rc = load_stored(&c, src, &f, where);
        e->ckst.loading = 0;
        csm_engine_state_loaded(e);
    }
    e->ckst.meta_dirty = 1;
    /* Nothing stored: the records of every hash beside it are stale. */
    if (!rc && !f.engine) {
        e->ckst.reset = 1;
        drop_unlisted(e, NULL);
    }
    core_fields_free(&f);
    return rc;
}
