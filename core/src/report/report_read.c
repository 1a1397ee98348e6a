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

/* NULL when out of memory: the report is a library of long-running
 * servers (exporter, dashboard), which answer with an error instead. */
static csm_block *list_get(csm_report_list *l, const csm_registry *reg, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, name))
            return l->v[i].b;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        csm_report_named *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    char *copy = strdup(name);
    csm_block *b = calloc(1, sizeof *b);
    if (!copy || !b || csm_block_init(b, reg)) {
        free(copy);
        free(b);
        return NULL;
    }
    l->v[l->n++] = (csm_report_named){.name = copy, .b = b};
    return b;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const csm_report_named *)a)->name, ((const csm_report_named *)b)->name);
}

static void list_free(csm_report_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        csm_block_free(l->v[i].b);
        free(l->v[i].b);
    }
    free(l->v);
}

void csm_report_free(csm_report *r)
{
    csm_block_free(&r->board);
    csm_block_free(&r->allday);
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

struct csm_report_redis {
    redisContext *c;
    int timeout_ms;
    const char *prefix; /* the config's, which outlives the connection */
    char err[512];
};
typedef struct csm_report_redis reader;

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

static void add_hash(const csm_registry *reg, csm_block *b, const redisReply *r)
{
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        csm_block_add_field(reg, b, f->str, strtoll(v->str, NULL, 10));
    }
}

static int read_members(reader *rd, const char *prefix, csm_report *r, int32_t day, int agents,
                        const redisReply *members)
{
    csm_report_list *l = agents ? &r->agents : &r->intents;
    char key[KEY_MAX];
    size_t sent = 0;
    int oom = 0;
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
        /* Out of memory, the remaining replies are still read, to keep
         * the pipeline in step. */
        csm_block *b = oom ? NULL : list_get(l, r->reg, m->str);
        if (b)
            add_hash(r->reg, b, h);
        else
            oom = 1;
        freeReplyObject(h);
        k++;
    }
    if (oom)
        snprintf(rd->err, sizeof rd->err, "out of memory");
    return oom ? -1 : 0;
}

/* The block hashes and member sets of a day, then one SCARD per set
 * figure (CSM_FIGURE_SET). */
#define DAY_KEYS 4

static int send_day(reader *rd, const char *prefix, const csm_report *r, int32_t day,
                    char (*keys)[KEY_MAX])
{
    if (csm_key_block(keys[0], KEY_MAX, prefix, r->shop, "board", day) < 0 ||
        csm_key_block(keys[1], KEY_MAX, prefix, r->shop, "allday", day) < 0 ||
        csm_key_agents(keys[2], KEY_MAX, prefix, r->shop, day) < 0 ||
        csm_key_intents(keys[3], KEY_MAX, prefix, r->shop, day) < 0) {
        snprintf(rd->err, sizeof rd->err, "shop id too long");
        return -1;
    }
    static const char *const cmds[DAY_KEYS] = {"HGETALL", "HGETALL", "SMEMBERS", "SMEMBERS"};
    for (int i = 0; i < DAY_KEYS; i++) {
        const char *argv[2] = {cmds[i], keys[i]};
        if (send_cmd(rd, 2, argv))
            return -1;
    }
    for (size_t i = 0; i < r->reg->n; i++) {
        if (!(r->reg->fig[i].flags & CSM_FIGURE_SET))
            continue;
        char all[KEY_MAX], board[KEY_MAX];
        const char *name = r->reg->fig[i].name;
        const char *a1[2] = {"SCARD", all}, *a2[2] = {"SCARD", board};
        if (csm_key_set(all, KEY_MAX, prefix, r->shop, day, name) < 0 ||
            csm_key_boardset(board, KEY_MAX, prefix, r->shop, day, name) < 0) {
            snprintf(rd->err, sizeof rd->err, "shop id too long");
            return -1;
        }
        if (send_cmd(rd, 2, a1) || send_cmd(rd, 2, a2))
            return -1;
    }
    return 0;
}

/* A set figure's distinct members of the day (all-day block), then those
 * whose anchor fell in the assessment window (the board's own set). */
static int recv_sets(reader *rd, csm_report *r)
{
    int rc = 0;
    for (size_t i = 0; i < r->reg->n; i++) {
        if (!(r->reg->fig[i].flags & CSM_FIGURE_SET))
            continue;
        csm_block *blocks[2] = {&r->allday, &r->board};
        for (int k = 0; k < 2; k++) {
            redisReply *x = recv_reply(rd, REDIS_REPLY_INTEGER, r->reg->fig[i].name);
            if (!x) {
                rc = -1;
                if (rd->c->err)
                    return rc; /* the connection is gone */
                continue;
            }
            blocks[k]->c[i] += x->integer;
            freeReplyObject(x);
        }
    }
    return rc;
}

static int read_day(reader *rd, const char *prefix, csm_report *r, int32_t day)
{
    char keys[DAY_KEYS][KEY_MAX];
    if (send_day(rd, prefix, r, day, keys))
        return -1;
    redisReply *rep[DAY_KEYS] = {0};
    int rc = 0;
    for (int i = 0; i < DAY_KEYS; i++) {
        /* Every reply is read even after a failure, to keep the pipeline in step. */
        rep[i] = recv_reply(rd, REDIS_REPLY_ARRAY, keys[i]);
        if (!rep[i])
            rc = -1;
        if (!rep[i] && rd->c->err)
            break; /* the connection is gone */
    }
    if (!rd->c->err && recv_sets(rd, r))
        rc = -1;
    if (!rc) {
        add_hash(r->reg, &r->board, rep[0]);
        add_hash(r->reg, &r->allday, rep[1]);
        if (!(r->skip & CSM_REPORT_SKIP_AGENTS))
            rc = read_members(rd, prefix, r, day, 1, rep[2]);
        if (!rc && !(r->skip & CSM_REPORT_SKIP_INTENTS))
            rc = read_members(rd, prefix, r, day, 0, rep[3]);
    }
    for (int i = 0; i < DAY_KEYS; i++)
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

/* A copy of a non-empty field in *out (NULL for an empty or missing one);
 * -1 out of memory. */
static int dup_field(const redisReply *fv, const char *name, char **out)
{
    const char *v = entry_field(fv, name);
    *out = v && *v ? strdup(v) : NULL;
    return v && *v && !*out ? -1 : 0;
}

static long long int_field(const redisReply *fv, const char *name)
{
    const char *v = entry_field(fv, name);
    return v && *v ? strtoll(v, NULL, 10) : CSM_REPORT_NO_TS;
}

int csm_report_alert_from_entry(const redisReply *fv, csm_report_alert *a)
{
    a->session_open_ts = int_field(fv, "session_open_ts");
    a->anchor_ts = int_field(fv, "anchor_ts");
    a->raised_ts = int_field(fv, "raised_ts");
    a->figure = int_field(fv, "figure");
    return dup_field(fv, "type", &a->type) | dup_field(fv, "shop_id", &a->shop_id) |
           dup_field(fv, "customer_id", &a->customer_id) | dup_field(fv, "agent_id", &a->agent_id) |
           dup_field(fv, "day", &a->day);
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
    r->alerts = calloc(x->elements ? x->elements : 1, sizeof *r->alerts);
    int rc = r->alerts ? 0 : -1;
    for (size_t i = 0; i < x->elements && !rc; i++) {
        const redisReply *e = x->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        const redisReply *fv = e->element[1];
        const char *ds = entry_field(fv, "day");
        int32_t day;
        if (!ds || csm_day_parse(ds, &day) || day < r->from || day > r->to)
            continue;
        rc = csm_report_alert_from_entry(fv, &r->alerts[r->n_alerts++]);
    }
    freeReplyObject(x);
    if (rc)
        snprintf(rd->err, sizeof rd->err, "out of memory");
    return rc;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "unknown shop 'X' (known shops: A, B, …)", the known ones sorted. */
static void unknown_shop(reader *rd, const char *shop, const redisReply *members)
{
    size_t n = 0, len;
    const char **v = calloc(members->elements ? members->elements : 1, sizeof *v);
    for (size_t i = 0; v && i < members->elements; i++)
        if (members->element[i]->type == REDIS_REPLY_STRING)
            v[n++] = members->element[i]->str;
    if (v)
        qsort(v, n, sizeof *v, by_text);
    len = (size_t)snprintf(rd->err, sizeof rd->err, "unknown shop '%s' (known shops: %s", shop,
                           n ? "" : "none yet");
    for (size_t i = 0; i < n && len < sizeof rd->err; i++)
        len += (size_t)snprintf(rd->err + len, sizeof rd->err - len, "%s%s", i ? ", " : "", v[i]);
    if (len < sizeof rd->err)
        snprintf(rd->err + len, sizeof rd->err - len, ")");
    free(v);
}

/* CSM_REPORT_UNKNOWN_SHOP unless the shop is in P:shops: a typo would
 * otherwise read as a shop with nothing to report. */
static int check_shop(reader *rd, const char *prefix, const char *shop)
{
    char key[KEY_MAX];
    if (csm_key_shops(key, sizeof key, prefix) < 0) {
        snprintf(rd->err, sizeof rd->err, "prefix too long");
        return -1;
    }
    const char *is[3] = {"SISMEMBER", key, shop}, *all[2] = {"SMEMBERS", key};
    if (send_cmd(rd, 3, is))
        return -1;
    redisReply *x = recv_reply(rd, REDIS_REPLY_INTEGER, key);
    if (!x)
        return -1;
    int known = x->integer == 1;
    freeReplyObject(x);
    if (known)
        return 0;
    if (send_cmd(rd, 2, all) || !(x = recv_reply(rd, REDIS_REPLY_ARRAY, key)))
        return -1;
    unknown_shop(rd, shop, x);
    freeReplyObject(x);
    return CSM_REPORT_UNKNOWN_SHOP;
}

csm_report_redis *csm_report_connect(const csm_config *cfg, char *err, size_t errlen)
{
    reader *rd = calloc(1, sizeof *rd);
    if (!rd) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rd->c = csm_redis_connect(&cfg->redis, err, errlen);
    if (!rd->c) {
        free(rd);
        return NULL;
    }
    rd->timeout_ms = cfg->redis.timeout_ms;
    rd->prefix = cfg->prefix;
    return rd;
}

void csm_report_disconnect(csm_report_redis *rr)
{
    if (!rr)
        return;
    redisFree(rr->c);
    free(rr);
}

static int read_days(reader *rd, csm_report *r)
{
    if (!r->reg) {
        snprintf(rd->err, sizeof rd->err, "no figure registry (csm_registry_load)");
        return -1;
    }
    if (csm_block_init(&r->board, r->reg) || csm_block_init(&r->allday, r->reg)) {
        snprintf(rd->err, sizeof rd->err, "out of memory");
        return -1;
    }
    int rc = 0;
    for (int32_t d = r->from; d <= r->to && !rc; d++)
        rc = read_day(rd, rd->prefix, r, d);
    if (!rc && !(r->skip & CSM_REPORT_SKIP_ALERTS))
        rc = read_alerts(rd, rd->prefix, r);
    if (r->agents.n)
        qsort(r->agents.v, r->agents.n, sizeof *r->agents.v, by_name);
    if (r->intents.n)
        qsort(r->intents.v, r->intents.n, sizeof *r->intents.v, by_name);
    return rc;
}

int csm_report_read_on(csm_report_redis *rd, csm_report *r, char *err, size_t errlen)
{
    int rc = read_days(rd, r);
    if (rc)
        snprintf(err, errlen, "%s", rd->err);
    return rc;
}

int csm_report_read(const csm_config *cfg, csm_report *r, char *err, size_t errlen)
{
    csm_report_redis *rd = csm_report_connect(cfg, err, errlen);
    if (!rd)
        return -1;
    int rc = check_shop(rd, rd->prefix, r->shop);
    if (!rc)
        rc = read_days(rd, r);
    if (rc)
        snprintf(err, errlen, "%s", rd->err);
    csm_report_disconnect(rd);
    return rc;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int csm_report_shops(csm_report_redis *rd, char ***shops, size_t *n, char *err, size_t errlen)
{
    char key[KEY_MAX];
    *shops = NULL;
    *n = 0;
    if (csm_key_shops(key, sizeof key, rd->prefix) < 0) {
        snprintf(err, errlen, "redis.prefix too long");
        return -1;
    }
    const char *argv[2] = {"SMEMBERS", key};
    redisReply *x = send_cmd(rd, 2, argv) ? NULL : recv_reply(rd, REDIS_REPLY_ARRAY, key);
    if (!x) {
        snprintf(err, errlen, "%s", rd->err);
        return -1;
    }
    char **v = calloc(x->elements ? x->elements : 1, sizeof *v);
    if (!v) {
        freeReplyObject(x);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < x->elements; i++)
        if (x->element[i]->type == REDIS_REPLY_STRING && (v[*n] = strdup(x->element[i]->str)))
            (*n)++;
    freeReplyObject(x);
    if (*n)
        qsort(v, *n, sizeof *v, by_string);
    *shops = v;
    return 0;
}

int csm_report_list_shops(const csm_config *cfg, char ***shops, size_t *n, char *err,
                          size_t errlen)
{
    *shops = NULL;
    *n = 0;
    csm_report_redis *rd = csm_report_connect(cfg, err, errlen);
    if (!rd)
        return -1;
    int rc = csm_report_shops(rd, shops, n, err, errlen);
    csm_report_disconnect(rd);
    return rc;
}

void csm_report_shops_free(char **shops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(shops[i]);
    free(shops);
}
