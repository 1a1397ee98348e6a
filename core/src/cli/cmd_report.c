/* csmetrics report: reads one shop's counters for a day or a range of days
 * from Redis and prints the board (operations.md). Rates are computed here,
 * from counters summed over the range, never stored: that is what makes
 * them add up correctly over days. */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "figures.h"
#include "civil_day.h"
#include "keys.h"
#include "redis_conn.h"

#define KEY_MAX 512
/* Longer than any retention (day_ttl_days defaults to 400). */
#define MAX_RANGE_DAYS 1000
#define TEXT_ALERTS 20

typedef struct named {
    char *name;
    csm_block *b;
} named;

typedef struct named_list {
    named *v;
    size_t n, cap;
} named_list;

typedef struct alert_rec {
    char *type, *shop_id, *customer_id, *agent_id, *day;
    long long session_open_ts, anchor_ts, raised_ts, figure;
} alert_rec;

typedef struct report {
    const char *shop;
    int32_t from, to;
    csm_block board, allday;
    named_list agents, intents;
    alert_rec *alerts;
    size_t n_alerts;
} report;

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "csmetrics report: out of memory\n");
        exit(1);
    }
    return p;
}

static csm_block *list_get(named_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, name))
            return l->v[i].b;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        named *v = realloc(l->v, l->cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "csmetrics report: out of memory\n");
            exit(1);
        }
        l->v = v;
    }
    named *e = &l->v[l->n++];
    e->name = strdup(name);
    e->b = xcalloc(1, sizeof *e->b);
    return e->b;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

static void list_free(named_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].b);
    }
    free(l->v);
}

static void report_free(report *r)
{
    list_free(&r->agents);
    list_free(&r->intents);
    for (size_t i = 0; i < r->n_alerts; i++) {
        alert_rec *a = &r->alerts[i];
        free(a->type);
        free(a->shop_id);
        free(a->customer_id);
        free(a->agent_id);
        free(a->day);
    }
    free(r->alerts);
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

static int read_members(reader *rd, const char *prefix, report *r, int32_t day, int agents,
                        const redisReply *members)
{
    named_list *l = agents ? &r->agents : &r->intents;
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

static int read_day(reader *rd, const char *prefix, report *r, int32_t day)
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

/* NO_TS for an empty or missing value (shop-level alerts have no session). */
#define NO_TS LLONG_MIN
static long long int_field(const redisReply *fv, const char *name)
{
    const char *v = entry_field(fv, name);
    return v && *v ? strtoll(v, NULL, 10) : NO_TS;
}

static json_t *int_or_null(long long v)
{
    return v == NO_TS ? json_null() : json_integer(v);
}

static int read_alerts(reader *rd, const char *prefix, report *r)
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
        alert_rec *a = &r->alerts[r->n_alerts++];
        a->type = dup_field(fv, "type");
        a->shop_id = dup_field(fv, "shop_id");
        a->customer_id = dup_field(fv, "customer_id");
        a->agent_id = dup_field(fv, "agent_id");
        a->day = strdup(ds);
        a->session_open_ts = int_field(fv, "session_open_ts");
        a->anchor_ts = int_field(fv, "anchor_ts");
        a->raised_ts = int_field(fv, "raised_ts");
        a->figure = int_field(fv, "figure");
    }
    freeReplyObject(x);
    return 0;
}

static int read_report(const csm_config *cfg, report *r, char *err, size_t errlen)
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

/* ---- intents top 10 ------------------------------------------------------ */

static int by_sessions(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int64_t sx = x->b->c[CSM_F_SESSIONS], sy = y->b->c[CSM_F_SESSIONS];
    return sx != sy ? (sx < sy ? 1 : -1) : strcmp(x->name, y->name);
}

/* Contributions share one denominator, so ranking by rated_1_2 is ranking
 * by contribution, without comparing doubles. */
static int by_contribution(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int64_t sx = x->b->c[CSM_F_RATED_1_2], sy = y->b->c[CSM_F_RATED_1_2];
    return sx != sy ? (sx < sy ? 1 : -1) : strcmp(x->name, y->name);
}

/* The first min(10, n) intents by cmp, as a sorted copy. */
static named *top10(const named_list *l, int (*cmp)(const void *, const void *), size_t *n)
{
    named *v = xcalloc(l->n, sizeof *v);
    if (l->n) {
        memcpy(v, l->v, l->n * sizeof *v);
        qsort(v, l->n, sizeof *v, cmp);
    }
    *n = l->n < 10 ? l->n : 10;
    return v;
}

static int64_t total_rated_1_2(const named_list *l)
{
    int64_t t = 0;
    for (size_t i = 0; i < l->n; i++)
        t += l->v[i].b->c[CSM_F_RATED_1_2];
    return t;
}

/* ---- JSON ----------------------------------------------------------------- */

static void put_figures(json_t *o, const int64_t *c, unsigned scope)
{
    for (int i = 0; i < CSM_N_FIGURES; i++) {
        if (!csm_figure_in_scope(i, scope))
            continue;
        double v;
        if (csm_figures[i].kind == CSM_FIG_COUNTER)
            json_object_set_new(o, csm_figures[i].name, json_integer(c[i]));
        else
            json_object_set_new(o, csm_figures[i].name,
                                csm_figure_rate(i, c, &v) ? json_real(v) : json_null());
    }
}

static json_t *block_json(const csm_block *b)
{
    json_t *o = json_object();
    put_figures(o, b->c, CSM_FIGSCOPE_BLOCK);
    json_t *split = json_object();
    for (int s = 0; s < CSM_N_SPLITS; s++) {
        json_t *so = json_object();
        put_figures(so, b->split[s], CSM_FIGSCOPE_SPLIT);
        json_object_set_new(split, csm_splits[s], so);
    }
    json_object_set_new(o, "split", split);
    json_t *hourly = json_object();
    for (int h = 0; h < CSM_N_HOURLY; h++) {
        json_t *a = json_array();
        for (int i = 0; i < 24; i++)
            json_array_append_new(a, json_integer(b->hourly[h][i]));
        json_object_set_new(hourly, csm_hourly_names[h], a);
    }
    json_object_set_new(o, "hourly", hourly);
    return o;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *report_json(const report *r, const char *only_agent)
{
    char d1[11], d2[11];
    csm_day_format(r->from, d1);
    csm_day_format(r->to, d2);
    json_t *o = json_object();
    json_object_set_new(o, "shop_id", json_string(r->shop));
    json_object_set_new(o, "day", json_string(d1));
    if (r->to != r->from)
        json_object_set_new(o, "to", json_string(d2));
    json_object_set_new(o, "board", block_json(&r->board));
    json_object_set_new(o, "allday", block_json(&r->allday));

    json_t *agents = json_object();
    for (size_t i = 0; i < r->agents.n; i++) {
        if (only_agent && strcmp(only_agent, r->agents.v[i].name))
            continue;
        json_t *a = json_object();
        put_figures(a, r->agents.v[i].b->c, CSM_FIGSCOPE_AGENTS);
        json_object_set_new(agents, r->agents.v[i].name, a);
    }
    json_object_set_new(o, "agents", agents);

    json_t *intents = json_object(), *by = json_object();
    int64_t total = total_rated_1_2(&r->intents);
    for (size_t i = 0; i < r->intents.n; i++) {
        const int64_t *c = r->intents.v[i].b->c;
        json_t *io = json_object();
        put_figures(io, c, CSM_FIGSCOPE_INTENTS);
        json_object_set_new(io, "dissatisfaction_contribution",
                            total ? json_real((double)c[CSM_F_RATED_1_2] / (double)total)
                                  : json_null());
        json_object_set_new(by, r->intents.v[i].name, io);
    }
    json_object_set_new(intents, "by_intent", by);
    const char *lists[2] = {"top10_sessions", "top10_contribution"};
    for (int k = 0; k < 2; k++) {
        size_t n;
        named *v = top10(&r->intents, k ? by_contribution : by_sessions, &n);
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_string(v[i].name));
        free(v);
        json_object_set_new(intents, lists[k], a);
    }
    json_object_set_new(o, "intents", intents);

    json_t *alerts = json_array();
    for (size_t i = 0; i < r->n_alerts; i++) {
        const alert_rec *a = &r->alerts[i];
        json_t *ao = json_object();
        json_object_set_new(ao, "type", str_or_null(a->type));
        json_object_set_new(ao, "shop_id", str_or_null(a->shop_id));
        json_object_set_new(ao, "customer_id", str_or_null(a->customer_id));
        json_object_set_new(ao, "session_open_ts", int_or_null(a->session_open_ts));
        json_object_set_new(ao, "agent_id", str_or_null(a->agent_id));
        json_object_set_new(ao, "anchor_ts", int_or_null(a->anchor_ts));
        json_object_set_new(ao, "raised_ts", int_or_null(a->raised_ts));
        json_object_set_new(ao, "figure", int_or_null(a->figure));
        json_object_set_new(ao, "day", str_or_null(a->day));
        json_array_append_new(alerts, ao);
    }
    json_object_set_new(o, "alerts", alerts);
    return o;
}

/* ---- text ------------------------------------------------------------------ */

static void fmt_figure(char *buf, size_t n, int id, const int64_t *c)
{
    const csm_figure *f = &csm_figures[id];
    double v;
    if (f->kind == CSM_FIG_COUNTER)
        snprintf(buf, n, "%lld", (long long)c[id]);
    else if (!csm_figure_rate(id, c, &v))
        snprintf(buf, n, "-");
    else if (f->kind == CSM_FIG_AVG_MS)
        snprintf(buf, n, v >= 10000 ? "%.1f s" : "%.0f ms", v >= 10000 ? v / 1000 : v);
    else
        snprintf(buf, n, "%.2f%%", v * 100);
}

static void print_text(const report *r, int agents, const char *only_agent)
{
    char d1[11], d2[11], a[32], b[32];
    csm_day_format(r->from, d1);
    csm_day_format(r->to, d2);
    printf("shop %s, %s%s%s\n\n", r->shop, d1, r->to != r->from ? " .. " : "",
           r->to != r->from ? d2 : "");
    printf("%-22s %14s %14s\n", "figure", "board", "all day");
    for (int i = 0; i < CSM_N_FIGURES; i++) {
        if (!csm_figure_in_scope(i, CSM_FIGSCOPE_BLOCK))
            continue;
        fmt_figure(a, sizeof a, i, r->board.c);
        fmt_figure(b, sizeof b, i, r->allday.c);
        printf("%-22s %14s %14s\n", csm_figures[i].name, a, b);
    }

    printf("\nsatisfaction by split (board)\n%-22s", "");
    for (int s = 0; s < CSM_N_SPLITS; s++)
        printf(" %12s", csm_splits[s]);
    printf("\n");
    for (int i = 0; i < CSM_N_FIGURES; i++) {
        if (!csm_figure_in_scope(i, CSM_FIGSCOPE_SPLIT))
            continue;
        printf("%-22s", csm_figures[i].name);
        for (int s = 0; s < CSM_N_SPLITS; s++) {
            fmt_figure(a, sizeof a, i, r->board.split[s]);
            printf(" %12s", a);
        }
        printf("\n");
    }

    printf("\nper hour (board)\n%-17s", "");
    for (int h = 0; h < 24; h++)
        printf(" %4d", h);
    printf("\n");
    for (int k = 0; k < CSM_N_HOURLY; k++) {
        printf("%-17s", csm_hourly_names[k]);
        for (int h = 0; h < 24; h++)
            printf(" %4lld", (long long)r->board.hourly[k][h]);
        printf("\n");
    }

    if (agents || only_agent) {
        printf("\nagents (all day)\n%-16s", "agent");
        for (int i = 0; i < CSM_N_FIGURES; i++)
            if (csm_figure_in_scope(i, CSM_FIGSCOPE_AGENTS))
                printf(" %10s", csm_figures[i].label);
        printf("\n");
        for (size_t j = 0; j < r->agents.n; j++) {
            if (only_agent && strcmp(only_agent, r->agents.v[j].name))
                continue;
            printf("%-16s", r->agents.v[j].name);
            for (int i = 0; i < CSM_N_FIGURES; i++) {
                if (!csm_figure_in_scope(i, CSM_FIGSCOPE_AGENTS))
                    continue;
                fmt_figure(a, sizeof a, i, r->agents.v[j].b->c);
                printf(" %10s", a);
            }
            printf("\n");
        }
    }

    int64_t total = total_rated_1_2(&r->intents);
    size_t n1, n2;
    named *ts = top10(&r->intents, by_sessions, &n1);
    named *tc = top10(&r->intents, by_contribution, &n2);
    printf("\nintents: top by sessions%28s top by dissatisfaction contribution\n", "");
    for (size_t i = 0; i < n1; i++) {
        char left[64] = "", right[64] = "";
        snprintf(left, sizeof left, "%-32s %8lld", ts[i].name,
                 (long long)ts[i].b->c[CSM_F_SESSIONS]);
        if (total)
            snprintf(right, sizeof right, "%-32s %7.2f%%", tc[i].name,
                     100.0 * (double)tc[i].b->c[CSM_F_RATED_1_2] / (double)total);
        else
            snprintf(right, sizeof right, "%-32s %8s", tc[i].name, "-");
        printf("%-52s %s\n", left, right);
    }
    free(ts);
    free(tc);

    size_t first = r->n_alerts > TEXT_ALERTS ? r->n_alerts - TEXT_ALERTS : 0;
    printf("\nalerts: %zu in range%s\n", r->n_alerts, first ? ", the latest shown" : "");
    for (size_t i = first; i < r->n_alerts; i++) {
        const alert_rec *al = &r->alerts[i];
        time_t t = (time_t)(al->raised_ts / 1000);
        struct tm tm;
        char when[32];
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        printf("%s UTC  %-26s customer %-14s agent %-12s figure %lld\n", when,
               al->type ? al->type : "?", al->customer_id ? al->customer_id : "-",
               al->agent_id ? al->agent_id : "-", al->figure);
    }
}

/* ---- command ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f, "usage: csmetrics report [-c FILE] [--redis HOST:PORT] --shop S --day YYYY-MM-DD\n"
               "                        [--to YYYY-MM-DD] [--agent A | --agents] [--json]\n"
               "Prints a shop's board, per-agent table, intents top 10 and alerts for a day\n"
               "or a range of days (counters summed, rates computed from the sums).\n");
}

int csm_cmd_report(int argc, char **argv)
{
    csm_cli_common o = {0};
    const char *shop = NULL, *day = NULL, *to = NULL, *agent = NULL;
    int agents = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        int c = csm_cli_common_arg(&o, argc, argv, &i);
        if (c < 0)
            return 2;
        if (c)
            continue;
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--agents")) {
            agents = 1;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--shop") || !strcmp(a, "--day") || !strcmp(a, "--to") ||
                   !strcmp(a, "--agent")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "csmetrics report: %s needs a value\n", a);
                return 2;
            }
            const char **slot = a[2] == 's'   ? &shop
                                : a[2] == 'd' ? &day
                                : a[2] == 't' ? &to
                                              : &agent;
            *slot = argv[++i];
        } else {
            fprintf(stderr, "csmetrics report: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!shop || !*shop) {
        fprintf(stderr, "csmetrics report: --shop is required\n");
        return 2;
    }
    if (agent && agents) {
        fprintf(stderr, "csmetrics report: --agent and --agents exclude each other\n");
        return 2;
    }
    report r;
    memset(&r, 0, sizeof r);
    r.shop = shop;
    if (!day) {
        fprintf(stderr, "csmetrics report: --day YYYY-MM-DD is required\n");
        return 2;
    }
    if (csm_day_parse(day, &r.from)) {
        fprintf(stderr, "csmetrics report: --day: expected a date YYYY-MM-DD, got '%s'\n", day);
        return 2;
    }
    r.to = r.from;
    if (to && csm_day_parse(to, &r.to)) {
        fprintf(stderr, "csmetrics report: --to: expected a date YYYY-MM-DD, got '%s'\n", to);
        return 2;
    }
    if (r.to < r.from || r.to - r.from >= MAX_RANGE_DAYS) {
        fprintf(stderr, "csmetrics report: --to must be on or after --day, at most %d days\n",
                MAX_RANGE_DAYS);
        return 2;
    }

    csm_config cfg;
    if (csm_cli_load_config(&o, &cfg))
        return 2;
    char err[512];
    if (read_report(&cfg, &r, err, sizeof err)) {
        fprintf(stderr, "csmetrics report: %s\n", err);
        report_free(&r);
        csm_config_free(&cfg);
        return 1;
    }
    int rc = 0;
    if (json) {
        json_t *j = report_json(&r, agent);
        if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) || puts("") == EOF)
            rc = 1;
        json_decref(j);
    } else {
        print_text(&r, agents, agent);
    }
    if (fflush(stdout)) {
        fprintf(stderr, "csmetrics report: cannot write the output\n");
        rc = 1;
    }
    report_free(&r);
    csm_config_free(&cfg);
    return rc;
}
