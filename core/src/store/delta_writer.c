/* Commands for pending writes. Key and field strings are built here, once
 * per key and item of a flush; each command's arguments are gathered in a
 * scratch buffer that is reused from key to key and flush to flush. */
#include "delta_writer.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delta_keys.h"

#define KEY_MAX 512
#define REFRESH_S 3600
#define NONE UINT32_MAX

enum { UNSENT, PENDING, WRITTEN };

/* What this process has sent for a key: its expiry and whether the EXEC
 * that carried it committed. */
typedef struct known {
    int64_t expire_at;
    int state;
} known;

struct csm_delta_writer {
    csm_deltas *sum;  /* the partitions of a flush, summed */
    csm_intern *keys; /* keys whose expiry was sent; ids index v */
    known *v;
    uint32_t cap;
    uint32_t prune_at;
    int64_t refreshed; /* when the keys were last all forgotten */
    uint32_t *pending;
    uint32_t n_pending, pending_cap;
    /* one command's arguments: strings in buf at off[i] */
    char *buf;
    size_t len, buf_cap;
    size_t *off;
    size_t *lens;
    char *out; /* the command as sent */
    size_t out_cap;
    size_t argc, arg_cap;
};

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

csm_delta_writer *csm_delta_writer_new(void)
{
    csm_delta_writer *w = xrealloc(NULL, sizeof *w);
    memset(w, 0, sizeof *w);
    if (!(w->keys = csm_intern_new()))
        abort();
    w->prune_at = 4096;
    return w;
}

void csm_delta_writer_free(csm_delta_writer *w)
{
    if (!w)
        return;
    csm_deltas_free(w->sum);
    csm_intern_free(w->keys);
    free(w->v);
    free(w->pending);
    free(w->buf);
    free(w->off);
    free(w->out);
    free(w->lens);
    free(w);
}

void csm_delta_writer_forget(csm_delta_writer *w)
{
    csm_intern_reset(w->keys);
    w->n_pending = 0;
}

/* ---- keys whose expiry was sent ---- */

/* An expiry in the past is sent again: the key may have expired and been
 * created anew by this very flush. */
static int expiry_written(const csm_delta_writer *w, const char *key, int64_t at, int64_t now)
{
    uint32_t i = csm_intern_find(w->keys, key);
    return i != NONE && w->v[i].state != UNSENT && w->v[i].expire_at == at && at > now;
}

static void note_sent(csm_delta_writer *w, const char *key, int64_t at)
{
    uint32_t i = csm_intern_id(w->keys, key);
    if (i >= w->cap) {
        w->cap = w->cap ? w->cap * 2 : 256;
        w->v = xrealloc(w->v, w->cap * sizeof *w->v);
    }
    w->v[i] = (known){at, PENDING};
    if (w->n_pending == w->pending_cap) {
        w->pending_cap = w->pending_cap ? w->pending_cap * 2 : 256;
        w->pending = xrealloc(w->pending, w->pending_cap * sizeof *w->pending);
    }
    w->pending[w->n_pending++] = i;
}

/* Drops keys whose expiry has passed: Redis has deleted them, and their
 * next write must set an expiry again. Rare: the table is rebuilt. */
static void prune(csm_delta_writer *w, int64_t now)
{
    uint32_t n = csm_intern_count(w->keys), kept = 0;
    char **keep = xrealloc(NULL, n * sizeof *keep);
    known *info = xrealloc(NULL, n * sizeof *info);
    for (uint32_t i = 0; i < n; i++) {
        if (w->v[i].state != WRITTEN || w->v[i].expire_at <= now)
            continue;
        if (!(keep[kept] = strdup(csm_intern_str(w->keys, i))))
            abort();
        info[kept++] = w->v[i];
    }
    csm_intern_reset(w->keys);
    for (uint32_t i = 0; i < kept; i++) {
        w->v[csm_intern_id(w->keys, keep[i])] = info[i];
        free(keep[i]);
    }
    free(keep);
    free(info);
    w->prune_at = kept * 2 > 4096 ? kept * 2 : 4096;
}

void csm_delta_writer_done(csm_delta_writer *w, int committed)
{
    for (uint32_t k = 0; k < w->n_pending; k++)
        w->v[w->pending[k]].state = committed ? WRITTEN : UNSENT;
    w->n_pending = 0;
    if (csm_intern_count(w->keys) >= w->prune_at)
        prune(w, (int64_t)time(NULL));
}

/* ---- one command's arguments ---- */

static void arg_begin(csm_delta_writer *w)
{
    w->len = 0;
    w->argc = 0;
}

static char *arg_space(csm_delta_writer *w, size_t n)
{
    if (w->len + n > w->buf_cap) {
        w->buf_cap = (w->len + n) * 2;
        w->buf = xrealloc(w->buf, w->buf_cap);
    }
    if (w->argc == w->arg_cap) {
        w->arg_cap = w->arg_cap ? w->arg_cap * 2 : 64;
        w->off = xrealloc(w->off, w->arg_cap * sizeof *w->off);
        w->lens = xrealloc(w->lens, w->arg_cap * sizeof *w->lens);
    }
    w->off[w->argc] = w->len;
    return w->buf + w->len;
}

static void arg_commit(csm_delta_writer *w, size_t n)
{
    w->lens[w->argc++] = n;
    w->len += n;
}

static void arg_str(csm_delta_writer *w, const char *s)
{
    size_t n = strlen(s);
    memcpy(arg_space(w, n), s, n);
    arg_commit(w, n);
}

static void arg_i64(csm_delta_writer *w, int64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(arg_space(w, n), p, n);
    arg_commit(w, n);
}

/* The item's field or member; 0 if it has none that fits (skipped, as a
 * too long key always was). */
static int arg_item(csm_delta_writer *w, const csm_deltas *d, const csm_dkey *k,
                    const csm_ditem *it)
{
    char *p = arg_space(w, KEY_MAX);
    int n = csm_ditem_format(d, k, it, p, KEY_MAX);
    if (n < 0)
        return 0;
    arg_commit(w, (size_t)n);
    return 1;
}

static char *put_len(char *p, char tag, size_t n)
{
    char tmp[24], *q = tmp + sizeof tmp;
    do
        *--q = (char)('0' + n % 10);
    while (n /= 10);
    *p++ = tag;
    memcpy(p, q, (size_t)(tmp + sizeof tmp - q));
    p += tmp + sizeof tmp - q;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* The command in the protocol's own form, handed to hiredis as is: its
 * own formatting cost five times more than the rest of the flush. */
static int arg_send(csm_delta_writer *w, redisContext *c, long *queued)
{
    size_t need = 32 + 32 * w->argc + w->len;
    if (need > w->out_cap) {
        w->out_cap = need * 2;
        w->out = xrealloc(w->out, w->out_cap);
    }
    char *p = put_len(w->out, '*', w->argc);
    for (size_t i = 0; i < w->argc; i++) {
        p = put_len(p, '$', w->lens[i]);
        memcpy(p, w->buf + w->off[i], w->lens[i]);
        p += w->lens[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    (*queued)++;
    return redisAppendFormattedCommand(c, w->out, (size_t)(p - w->out)) == REDIS_OK ? 0 : -1;
}

/* ---- commands ---- */

static int send_expireat(csm_delta_writer *w, redisContext *c, const char *key, int64_t at,
                         long *queued)
{
    arg_begin(w);
    arg_str(w, "EXPIREAT");
    arg_str(w, key);
    arg_i64(w, at);
    return arg_send(w, c, queued);
}

/* HINCRBY key field delta, one per item. */
static int send_hincrby(csm_delta_writer *w, redisContext *c, const csm_deltas *d,
                        const csm_dkeyrec *r, const char *key, long *queued)
{
    for (uint32_t j = r->first; j != NONE; j = csm_deltas_item(d, j)->next) {
        arg_begin(w);
        arg_str(w, "HINCRBY");
        arg_str(w, key);
        if (!arg_item(w, d, &r->key, csm_deltas_item(d, j)))
            continue;
        arg_i64(w, csm_deltas_item(d, j)->value);
        if (arg_send(w, c, queued))
            return -1;
    }
    return 0;
}

/* SADD key m1 m2 … or ZADD key s1 m1 s2 m2 … */
static int send_members(csm_delta_writer *w, redisContext *c, const csm_deltas *d,
                        const csm_dkeyrec *r, const char *key, long *queued)
{
    int zset = r->key.kind == CSM_KEY_SBT_DUE;
    arg_begin(w);
    arg_str(w, zset ? "ZADD" : "SADD");
    arg_str(w, key);
    size_t fixed = w->argc;
    for (uint32_t j = r->first; j != NONE; j = csm_deltas_item(d, j)->next) {
        const csm_ditem *it = csm_deltas_item(d, j);
        if (zset)
            arg_i64(w, it->value);
        if (!arg_item(w, d, &r->key, it) && zset) {
            w->argc--; /* drop its score too */
            w->len = w->off[w->argc];
        }
    }
    return w->argc > fixed ? arg_send(w, c, queued) : 0;
}

/* XADD key [MAXLEN n] * f1 v1 …, one per entry. Exact MAXLEN, not "~":
 * approximate trimming depends on how entries fell into stream nodes, so
 * a replay after a restart would keep a different tail than an
 * uninterrupted run. */
static int send_entries(csm_delta_writer *w, redisContext *c, const csm_deltas *d,
                        const csm_dkeyrec *r, const char *key, long *queued)
{
    for (uint32_t j = r->first; j != NONE; j = csm_deltas_item(d, j)->next) {
        const csm_ditem *it = csm_deltas_item(d, j);
        const char *const *fv = csm_deltas_fv(d, it);
        arg_begin(w);
        arg_str(w, "XADD");
        arg_str(w, key);
        if (it->value > 0) {
            arg_str(w, "MAXLEN");
            arg_i64(w, it->value);
        }
        arg_str(w, "*");
        for (uint32_t i = 0; i + 1 < it->b; i += 2) {
            arg_str(w, fv[i]);
            arg_str(w, fv[i + 1]);
        }
        if (arg_send(w, c, queued))
            return -1;
    }
    return 0;
}

static int send_key(csm_delta_writer *w, redisContext *c, const csm_deltas *d, const csm_dkeyrec *r,
                    int64_t now, long *queued)
{
    char key[KEY_MAX];
    if (!r->n_items || csm_dkey_format(d, &r->key, key, sizeof key) < 0)
        return 0;
    int expire = r->expire_at && !expiry_written(w, key, r->expire_at, now);
    int rc;
    if (csm_dkey_is_hash(&r->key))
        rc = send_hincrby(w, c, d, r, key, queued);
    else if (csm_dkey_is_stream(&r->key))
        rc = send_entries(w, c, d, r, key, queued);
    else
        rc = send_members(w, c, d, r, key, queued);
    if (!rc && expire)
        rc = send_expireat(w, c, key, r->expire_at, queued);
    if (rc)
        return -1;
    if (expire)
        note_sent(w, key, r->expire_at);
    return 0;
}

static long append_one(csm_delta_writer *w, redisContext *c, const csm_deltas *d)
{
    size_t n;
    const csm_dkeyrec *keys = csm_deltas_keys(d, &n);
    int64_t now = (int64_t)time(NULL);
    long queued = 0;
    for (size_t i = 0; i < n; i++)
        if (send_key(w, c, d, &keys[i], now, &queued))
            return -1;
    return queued;
}

/* The sum of several partitions' writes, in a table kept from flush to
 * flush; NULL when they do not share one key prefix. */
static const csm_deltas *sum_of(csm_delta_writer *w, const csm_deltas *const *v, size_t n)
{
    const char *prefix = csm_deltas_prefix(v[0]);
    for (size_t i = 1; i < n; i++)
        if (strcmp(csm_deltas_prefix(v[i]), prefix))
            return NULL;
    if (w->sum && strcmp(csm_deltas_prefix(w->sum), prefix)) {
        csm_deltas_free(w->sum);
        w->sum = NULL;
    }
    if (!w->sum)
        w->sum = csm_deltas_new(prefix);
    csm_deltas_clear(w->sum);
    for (size_t i = 0; i < n; i++)
        csm_deltas_add(w->sum, v[i]);
    return w->sum;
}

long csm_delta_writer_append(csm_delta_writer *w, redisContext *c, const csm_deltas *const *v,
                             size_t n)
{
    /* Whatever this process remembers, expiries go out again once an
     * hour: a key that Redis evicted (maxmemory) or someone deleted, and
     * that a later count created anew, gets its expiry back within it. */
    int64_t now = (int64_t)time(NULL);
    if (!w->n_pending && now - w->refreshed >= REFRESH_S) {
        csm_intern_reset(w->keys);
        w->refreshed = now;
    }
    const csm_deltas *sum = n > 1 ? sum_of(w, v, n) : NULL;
    if (sum || n == 1)
        return append_one(w, c, sum ? sum : v[0]);
    long queued = 0;
    for (size_t i = 0; i < n; i++) {
        long q = append_one(w, c, v[i]);
        if (q < 0)
            return -1;
        queued += q;
    }
    return queued;
}
