/* Reading a shop's figures from Redis, pipelined (docs/redis-keys.md). */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil_day.h"
#include "keys.h"
#include "redis_conn.h"
#include "report.h"
#include "report_redis.h"

#define KEY_MAX 512

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "csmetrics: out of memory\n");
        exit(1);
    }
    return p;
}

static csm_block *list_get(csm_report_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, name))
            return l->v[i].b;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        csm_report_named *v = realloc(l->v, l->cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "csmetrics: out of memory\n");
            exit(1);
        }
        l->v = v;
    }
    csm_report_named *e = &l->v[l->n++];
    e->name = strdup(name);
    e->b = xcalloc(1, sizeof *e->b);
    return e->b;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const csm_report_named *)a)->name, ((const csm_report_named *)b)->name);
}

static void list_free(csm_report_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].b);
    }
    free(l->v);
}

void csm_report_free(csm_report *r)
{
    list_free(&r->agents);
    list_free(&r->intents);
    for (size_t i = 0; i < r->n_alerts; i++)
        csm_report_alert_clear(&r->alerts[i]);
    free(r->alerts);
}

void csm_report_alert_clear(csm_report_alert *a)
{
    free(a->type);
    free(a->shop_id);
    free(a->customer_id);
    free(a->agent_id);
    free(a->day);
    memset(a, 0, sizeof *a);
}

/* ---- reading Redis ---------------------------------------------------- */

typedef struct reader {
    redisContext *c;
    int timeout_ms;
    char err[512];
} reader;

static void transport_failed(reader *rd)
{
    char buf[96];
    snprintf(rd->err, sizeof rd->err, "redis: %s",
             csm_redis_transport_error(rd->c, rd->timeout_ms, buf, sizeof buf));
}

static int send_cmd(reader *rd, int argc, const char **argv)
{
    if (redisAppendCommandArgv(rd->c, argc, argv, NULL) != REDIS_OK) {
        transport_failed(rd);
        return -1;
    }
    return 0;
}

/* The next pipelined reply, which must be of type want (an empty key reads
 * as an empty array or 0, so any other type is a real problem). */
static redisReply *recv_reply(reader *rd, int want, const char *key)
{
    redisReply *r = NULL;
    if (redisGetReply(rd->c, (void **)&r) != REDIS_OK || !r) {
        transport_failed(rd);
        return NULL;
    }
    if (r->type != want) {
        snprintf(rd->err, sizeof rd->err, "redis: %s: %s", key,
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply type");
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

static void add_hash(csm_block *b, const redisReply *r)
{
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        csm_block_add_field(b, f->str, strtoll(v->str, NULL, 10));
    }
}

static int read_members(reader *rd, const char *prefix, csm_report *r, int32_t day, int agents,
                        const redisReply *members)
{
    csm_report_list *l = agents ? &r->agents : &r->intents;
    char key[KEY_MAX];
    size_t sent = 0;
    for (size_t i = 0; i < members->elements; i++) {
        const redisReply *m = members->element[i];
        if (m->type != REDIS_REPLY_STRING)
            continue;
        int n = agents ? csm_key_agent(key, sizeof key, prefix, r->shop, day, m->str)
                       : csm_key_intent(key, sizeof key, prefix, r->shop, day, m->str);
        if (n < 0)
            continue;
        const char *argv[2] = {"HGETALL", key};
        if (send_cmd(rd, 2, argv))
            return -1;
        sent++;
    }
    for (size_t i = 0, k = 0; i < members->elements && k < sent; i++) {
        const redisReply *m = members->element[i];
        if (m->type != REDIS_REPLY_STRING)
            continue;
        redisReply *h = recv_reply(rd, REDIS_REPLY_ARRAY, m->str);
        if (!h)
            return -1;
        add_hash(list_get(l, m->str), h);
        freeReplyObject(h);
        k++;
    }
    return 0;
}

static int read_day(reader *rd, const char *prefix, csm_report *r, int32_t day)
{
    char keys[5][KEY_MAX];
    if (csm_key_block(keys[0], KEY_MAX, prefix, r->shop, "board", day) < 0 ||
        csm_key_block(keys[1], KEY_MAX, prefix, r->shop, "allday", day) < 0 ||
        csm_key_agents(keys[2], KEY_MAX, prefix, r->shop, day) < 0 ||
        csm_key_intents(keys[3], KEY_MAX, prefix, r->shop, day) < 0 ||
        csm_key_set(keys[4], KEY_MAX, prefix, r->shop, day, "aftersale_seekers") < 0) {
        snprintf(rd->err, sizeof rd->err, "shop id too long");
        return -1;
    }
    static const char *const cmds[5] = {"HGETALL", "HGETALL", "SMEMBERS", "SMEMBERS", "SCARD"};
    for (int i = 0; i < 5; i++) {
        const char *argv[2] = {cmds[i], keys[i]};
        if (send_cmd(rd, 2, argv))
            return -1;
    }
    redisReply *rep[5] = {0};
    int rc = 0;
    for (int i = 0; i < 5; i++) {
        /* Every reply is read even after a failure, to keep the pipeline in step. */
        redisReply *x = recv_reply(rd, i == 4 ? REDIS_REPLY_INTEGER : REDIS_REPLY_ARRAY, keys[i]);
        if (!x)
            rc = -1;
        rep[i] = x;
        if (!x && rd->c->err)
            break; /* the connection is gone */
    }
    if (!rc) {
        add_hash(&r->board, rep[0]);
        add_hash(&r->allday, rep[1]);
        /* The seekers set is per shop and day, with no window: board and
         * all-day see the same distinct customers. */
        r->board.c[CSM_F_AFTERSALE_SEEKERS] += rep[4]->integer;
        r->allday.c[CSM_F_AFTERSALE_SEEKERS] += rep[4]->integer;
        rc = read_members(rd, prefix, r, day, 1, rep[2]);
        if (!rc)
            rc = read_members(rd, prefix, r, day, 0, rep[3]);
    }
    for (int i = 0; i < 5; i++)
        if (rep[i])
            freeReplyObject(rep[i]);
    return rc;
}

static const char *entry_field(const redisReply *fv, const char *name)
{
    for (size_t i = 0; i + 1 < fv->elements; i += 2)
        if (fv->element[i]->type == REDIS_REPLY_STRING && !strcmp(fv->element[i]->str, name) &&
            fv->element[i + 1]->type == REDIS_REPLY_STRING)
            return fv->element[i + 1]->str;
    return NULL;
}

static char *dup_field(const redisReply *fv, const char *name)
{
    const char *v = entry_field(fv, name);
    return v && *v ? strdup(v) : NULL;
}

/* CSM_REPORT_NO_TS for an empty or missing value (shop-level alerts have no session). */
static long long int_field(const redisReply *fv, const char *name)
{
    const char *v = entry_field(fv, name);
    return v && *v ? strtoll(v, NULL, 10) : CSM_REPORT_NO_TS;
}

void csm_report_alert_from_entry(const redisReply *fv, csm_report_alert *a)
{
    a->type = dup_field(fv, "type");
    a->shop_id = dup_field(fv, "shop_id");
    a->customer_id = dup_field(fv, "customer_id");
    a->agent_id = dup_field(fv, "agent_id");
    a->day = dup_field(fv, "day");
    a->session_open_ts = int_field(fv, "session_open_ts");
    a->anchor_ts = int_field(fv, "anchor_ts");
    a->raised_ts = int_field(fv, "raised_ts");
    a->figure = int_field(fv, "figure");
}

static int read_alerts(reader *rd, const char *prefix, csm_report *r)
{
    char key[KEY_MAX];
    if (csm_key_alerts(key, sizeof key, prefix, r->shop) < 0) {
        snprintf(rd->err, sizeof rd->err, "shop id too long");
        return -1;
    }
    /* The stream is capped (alerts_maxlen), so reading it whole is bounded. */
    const char *argv[4] = {"XRANGE", key, "-", "+"};
    if (send_cmd(rd, 4, argv))
        return -1;
    redisReply *x = recv_reply(rd, REDIS_REPLY_ARRAY, key);
    if (!x)
        return -1;
    r->alerts = xcalloc(x->elements, sizeof *r->alerts);
    for (size_t i = 0; i < x->elements; i++) {
        const redisReply *e = x->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        const redisReply *fv = e->element[1];
        const char *ds = entry_field(fv, "day");
        int32_t day;
        if (!ds || csm_day_parse(ds, &day) || day < r->from || day > r->to)
            continue;
        csm_report_alert_from_entry(fv, &r->alerts[r->n_alerts++]);
    }
    freeReplyObject(x);
    return 0;
}

int csm_report_read(const csm_config *cfg, csm_report *r, char *err, size_t errlen)
{
    reader rd = {.c = csm_redis_connect(&cfg->redis, err, errlen),
                 .timeout_ms = cfg->redis.timeout_ms};
    if (!rd.c)
        return -1;
    int rc = 0;
    for (int32_t d = r->from; d <= r->to && !rc; d++)
        rc = read_day(&rd, cfg->prefix, r, d);
    if (!rc)
        rc = read_alerts(&rd, cfg->prefix, r);
    if (rc)
        snprintf(err, errlen, "%s", rd.err);
    redisFree(rd.c);
    if (r->agents.n)
        qsort(r->agents.v, r->agents.n, sizeof *r->agents.v, by_name);
    if (r->intents.n)
        qsort(r->intents.v, r->intents.n, sizeof *r->intents.v, by_name);
    return rc;
}
