#include "ckpt_store.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_conn.h"

static int fits(int len, size_t n)
{
    return len < 0 || (size_t)len >= n ? -1 : len;
}

int csm_ckpt_keys_init(csm_ckpt_keys *k, const char *prefix, const char *ckpt_key)
{
    if (fits(snprintf(k->ckpt, sizeof k->ckpt, "%s", ckpt_key), sizeof k->ckpt) < 0)
        return -1;
    return fits(snprintf(k->base, sizeof k->base, "%s:{%s}", prefix, ckpt_key), sizeof k->base) < 0
               ? -1
               : 0;
}

int csm_ckpt_section_key(char *out, size_t n, const csm_ckpt_keys *k, const char *section)
{
    if (!*section)
        return fits(snprintf(out, n, "%s", k->ckpt), n);
    return fits(snprintf(out, n, "%s:%s", k->base, section), n);
}

/* One command's arguments: the verb, the key, then fields (and values). */
typedef struct cmd_args {
    const char *argv[2 + 2 * CSM_CKPT_FIELDS_PER_CMD];
    size_t lens[2 + 2 * CSM_CKPT_FIELDS_PER_CMD];
    int argc;
} cmd_args;

static void start(cmd_args *a, const char *verb, const char *key)
{
    a->argc = 0;
    a->argv[a->argc] = verb;
    a->lens[a->argc++] = strlen(verb);
    a->argv[a->argc] = key;
    a->lens[a->argc++] = strlen(key);
}

static void arg(cmd_args *a, const void *p, size_t len)
{
    a->argv[a->argc] = p;
    a->lens[a->argc++] = len;
}

/* The ops of one kind in [from, to), chunked; returns commands or -1. */
static long append_kind(csm_redis_store *s, const csm_ckpt_batch *b, size_t from, size_t to,
                        csm_ckpt_op_kind kind, const char *key)
{
    static const char *const verbs[] = {"HSET", "HDEL", "DEL"};
    cmd_args a;
    long cmds = 0;
    start(&a, verbs[kind], key);
    for (size_t i = from; i < to; i++) {
        const csm_ckpt_op *op = &b->ops[i];
        if (op->kind != kind)
            continue;
        if (kind == CSM_CKPT_DROP) {
            cmds++;
            if (csm_redis_store_append(s, a.argc, a.argv, a.lens))
                return -1;
            continue;
        }
        arg(&a, op->field, strlen(op->field));
        if (kind == CSM_CKPT_HSET)
            arg(&a, csm_ckpt_op_value(b, op), op->value_len);
        if (a.argc >= 2 + (kind == CSM_CKPT_HSET ? 2 : 1) * CSM_CKPT_FIELDS_PER_CMD) {
            cmds++;
            if (csm_redis_store_append(s, a.argc, a.argv, a.lens))
                return -1;
            start(&a, verbs[kind], key);
        }
    }
    if (kind != CSM_CKPT_DROP && a.argc > 2) {
        cmds++;
        if (csm_redis_store_append(s, a.argc, a.argv, a.lens))
            return -1;
    }
    return cmds;
}

void csm_ckpt_store_core_args(const csm_ckpt_batch *b, const char **argv, size_t *lens, int *argc,
                              int max)
{
    for (size_t i = 0; i < b->n && *argc + 2 <= max; i++) {
        const csm_ckpt_op *op = &b->ops[i];
        if (op->kind != CSM_CKPT_HSET || *b->sections[op->section])
            continue;
        argv[*argc] = op->field;
        lens[(*argc)++] = strlen(op->field);
        argv[*argc] = (const char *)csm_ckpt_op_value(b, op);
        lens[(*argc)++] = op->value_len;
    }
}

/* A batch's drops come first (ckpt_batch.h): a section dropped and
 * written in the same batch starts over. */
static long append_drops(csm_redis_store *s, const csm_ckpt_keys *k, const csm_ckpt_batch *b)
{
    long total = 0;
    char key[512];
    for (size_t i = 0; i < b->n; i++) {
        if (b->ops[i].kind != CSM_CKPT_DROP)
            continue;
        if (csm_ckpt_section_key(key, sizeof key, k, b->sections[b->ops[i].section]) < 0 ||
            append_kind(s, b, i, i + 1, CSM_CKPT_DROP, key) < 0)
            return -1;
        total++;
    }
    return total;
}

long csm_ckpt_store_append(csm_redis_store *s, const csm_ckpt_keys *k, const csm_ckpt_batch *b)
{
    long total = append_drops(s, k, b);
    char key[512];
    if (total < 0)
        return -1;
    for (size_t from = 0, to; from < b->n; from = to) {
        uint16_t sec = b->ops[from].section;
        for (to = from; to < b->n && b->ops[to].section == sec; to++)
            ;
        if (csm_ckpt_section_key(key, sizeof key, k, b->sections[sec]) < 0)
            return -1;
        /* The checkpoint hash's fields go with the flush's own HSET. */
        int first = *b->sections[sec] ? CSM_CKPT_HSET : CSM_CKPT_HDEL;
        for (int kind = first; kind <= CSM_CKPT_HDEL; kind++) {
            long n = append_kind(s, b, from, to, (csm_ckpt_op_kind)kind, key);
            if (n < 0)
                return -1;
            total += n;
        }
    }
    return total;
}

/* An HGETALL reply, field by field: 0, -1 (an error reply), or fn's. */
static int visit_reply(const redisReply *r, const char *key, csm_ckpt_visit_fn fn, void *fn_arg,
                       char *err, size_t errlen)
{
    if (r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "redis: HGETALL %s: %s", key,
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; !rc && i + 1 < r->elements; i += 2)
        rc = fn(fn_arg, r->element[i]->str, r->element[i]->len, r->element[i + 1]->str,
                r->element[i + 1]->len);
    return rc;
}

static int section_key(char *key, size_t n, const csm_ckpt_keys *k, const char *section, char *err,
                       size_t errlen)
{
    if (csm_ckpt_section_key(key, n, k, section) >= 0)
        return 0;
    snprintf(err, errlen, "checkpoint key too long");
    return -1;
}

/* HGETALL, not HSCAN: HSCAN may return a field twice, and a record loaded
 * twice would restore its timers twice. */
static int scan(void *arg, const char *section, csm_ckpt_visit_fn fn, void *fn_arg, char *err,
                size_t errlen)
{
    csm_ckpt_redis *src = arg;
    char key[512];
    if (section_key(key, sizeof key, src->keys, section, err, errlen))
        return -1;
    struct redisContext *c = csm_redis_store_context(src->s, err, errlen);
    if (!c)
        return -1;
    const char *argv[2] = {"HGETALL", key};
    redisReply *r = redisCommandArgv(c, 2, argv, NULL);
    if (!r) {
        snprintf(err, errlen, "redis: HGETALL %s: %s", key,
                 c->errstr[0] ? c->errstr : "connection lost");
        csm_redis_store_broken(src->s);
        return -1;
    }
    int rc = visit_reply(r, key, fn, fn_arg, err, errlen);
    freeReplyObject(r);
    return rc;
}

csm_ckpt_source csm_ckpt_store_source(csm_ckpt_redis *src)
{
    return (csm_ckpt_source){src, scan};
}

/* ---- pipelined loading ---- */

/* What one reply on its way answers: a checkpoint's offsets and seq
 * (head), or one of its sections. */
struct csm_ckpt_pending {
    char ckpt[256];
    char section[CSM_CKPT_SECTION_MAX];
    int head;
};

int csm_ckpt_prefetch_open(csm_ckpt_prefetch *p, const csm_redis_config *cfg, char *err,
                           size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->timeout_ms = cfg->timeout_ms;
    p->c = csm_redis_connect(cfg, err, errlen);
    return p->c ? 0 : -1;
}

void csm_ckpt_prefetch_close(csm_ckpt_prefetch *p)
{
    if (p->c)
        redisFree(p->c);
    free(p->q);
    memset(p, 0, sizeof *p);
}

static void expect(csm_ckpt_prefetch *p, const csm_ckpt_keys *k, const char *section)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->q = realloc(p->q, p->cap * sizeof *p->q);
        if (!p->q)
            abort();
    }
    struct csm_ckpt_pending *e = &p->q[p->n++];
    snprintf(e->ckpt, sizeof e->ckpt, "%s", k->ckpt);
    e->head = section == NULL;
    snprintf(e->section, sizeof e->section, "%s", section ? section : "");
}

int csm_ckpt_prefetch_send(csm_ckpt_prefetch *p, const csm_ckpt_keys *k,
                           const char (*sections)[CSM_CKPT_SECTION_MAX], size_t n)
{
    if (p->broken)
        return -1;
    const char *head[] = CSM_REDIS_CHECKPOINT_HMGET(k->ckpt);
    if (redisAppendCommandArgv(p->c, 5, head, NULL) != REDIS_OK)
        return -1;
    expect(p, k, NULL);
    for (size_t i = 0; i < n; i++) {
        char key[512];
        /* Too long a key is reported by the load (nothing answers it). */
        if (csm_ckpt_section_key(key, sizeof key, k, sections[i]) < 0)
            continue;
        const char *argv[2] = {"HGETALL", key};
        if (redisAppendCommandArgv(p->c, 2, argv, NULL) != REDIS_OK)
            return -1;
        expect(p, k, sections[i]);
    }
    return 0;
}

/* The reply answering (@p k, @p section), or NULL + err: the replies
 * before it (sections nobody asked for, the rest of an earlier partition
 * whose load stopped) are read and dropped. */
static redisReply *next_for(csm_ckpt_prefetch *p, const csm_ckpt_keys *k, const char *section,
                            char *err, size_t errlen)
{
    while (!p->broken && p->head < p->n) {
        const struct csm_ckpt_pending *e = &p->q[p->head++];
        redisReply *r = NULL;
        if (redisGetReply(p->c, (void **)&r) != REDIS_OK || !r) {
            char why[64];
            snprintf(err, errlen, "redis: reading checkpoint %s: %s", e->ckpt,
                     csm_redis_transport_error(p->c, p->timeout_ms, why, sizeof why));
            p->broken = 1;
            return NULL;
        }
        if (!strcmp(e->ckpt, k->ckpt) && e->head == !section &&
            (!section || !strcmp(e->section, section)))
            return r;
        freeReplyObject(r);
    }
    if (p->broken)
        snprintf(err, errlen, "redis: reading checkpoint %s: the connection was lost", k->ckpt);
    else
        snprintf(err, errlen, "checkpoint %s: section '%s' was not read ahead", k->ckpt,
                 section ? section : "(offsets)");
    return NULL;
}

int csm_ckpt_prefetch_head(csm_ckpt_prefetch *p, const csm_ckpt_keys *k, csm_checkpoint *out,
                           char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    redisReply *r = next_for(p, k, NULL, err, errlen);
    if (!r)
        return -1;
    int rc = csm_redis_checkpoint_parse(r, k->ckpt, out, err, errlen);
    freeReplyObject(r);
    return rc;
}

static int scan_prefetched(void *arg, const char *section, csm_ckpt_visit_fn fn, void *fn_arg,
                           char *err, size_t errlen)
{
    csm_ckpt_prefetched *src = arg;
    redisReply *r = next_for(src->p, src->keys, section, err, errlen);
    if (!r)
        return -1;
    int rc = visit_reply(r, src->keys->ckpt, fn, fn_arg, err, errlen);
    freeReplyObject(r);
    return rc;
}

csm_ckpt_source csm_ckpt_prefetch_source(csm_ckpt_prefetched *src)
{
    return (csm_ckpt_source){src, scan_prefetched};
}
