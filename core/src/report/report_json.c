/* The report as JSON, in the shape of operations.md, and the intents'
 * rankings it shares with the text report. */
#include <stdlib.h>
#include <string.h>

#include "civil_day.h"
#include "report.h"

/* ---- intents top 10 ------------------------------------------------------ */

/* An intent and the counter it is ranked by. */
typedef struct ranked {
    csm_report_named named;
    int64_t key;
} ranked;

static int by_key(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return x->key != y->key ? (x->key < y->key ? 1 : -1) : strcmp(x->named.name, y->named.name);
}

static int64_t counter(const csm_block *b, int id)
{
    return id >= 0 ? b->c[id] : 0;
}

/* Contributions share one denominator, so ranking by rated_1_2 is ranking
 * by contribution, without comparing doubles. */
csm_report_named *csm_report_top10(const csm_registry *reg, const csm_report_list *l,
                                   int by_contribution, size_t *n)
{
    int id = csm_figure_lookup(reg, by_contribution ? "rated_1_2" : "sessions");
    ranked *tmp = calloc(l->n ? l->n : 1, sizeof *tmp);
    csm_report_named *v = calloc(l->n ? l->n : 1, sizeof *v);
    *n = 0;
    if (!tmp || !v) {
        free(tmp);
        free(v);
        return NULL;
    }
    for (size_t i = 0; i < l->n; i++)
        tmp[i] = (ranked){l->v[i], counter(l->v[i].b, id)};
    if (l->n)
        qsort(tmp, l->n, sizeof *tmp, by_key);
    for (size_t i = 0; i < l->n; i++)
        v[i] = tmp[i].named;
    free(tmp);
    *n = l->n < 10 ? l->n : 10;
    return v;
}

int64_t csm_report_total_rated_1_2(const csm_registry *reg, const csm_report_list *l)
{
    int id = csm_figure_lookup(reg, "rated_1_2");
    int64_t t = 0;
    for (size_t i = 0; i < l->n; i++)
        t += counter(l->v[i].b, id);
    return t;
}

static json_t *int_or_null(long long v)
{
    return v == CSM_REPORT_NO_TS ? json_null() : json_integer(v);
}

/* ---- JSON ----------------------------------------------------------------- */

static void put_figures(const csm_registry *reg, json_t *o, const int64_t *c, unsigned where)
{
    for (int i = 0; (size_t)i < reg->n; i++) {
        if (!csm_figure_in_scope(reg, i, where))
            continue;
        double v;
        const char *name = reg->fig[i].name;
        if (reg->fig[i].kind == CSM_FIGURE_COUNTER)
            json_object_set_new(o, name, json_integer(c[i]));
        else
            json_object_set_new(o, name,
                                csm_figure_rate(reg, i, c, &v) ? json_real(v) : json_null());
    }
}

static json_t *block_json(const csm_registry *reg, const csm_block *b)
{
    json_t *o = json_object();
    put_figures(reg, o, b->c, CSM_FIGURE_BOARD);
    json_t *split = json_object();
    for (int s = 0; s < CSM_N_SPLITS; s++) {
        json_t *so = json_object();
        put_figures(reg, so, b->split[s], CSM_FIGURE_SPLITS);
        json_object_set_new(split, csm_splits[s], so);
    }
    json_object_set_new(o, "split", split);
    json_t *hourly = json_object();
    for (int h = 0; (size_t)h < reg->n; h++) {
        if (!csm_figure_in_scope(reg, h, CSM_FIGURE_HOURLY))
            continue;
        json_t *a = json_array();
        for (int i = 0; i < 24; i++)
            json_array_append_new(a, json_integer(b->hourly[h][i]));
        json_object_set_new(hourly, reg->fig[h].name, a);
    }
    json_object_set_new(o, "hourly", hourly);
    return o;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *csm_report_alert_json(const csm_report_alert *a)
{
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
    return ao;
}

json_t *csm_report_json(const csm_report *r, const char *only_agent)
{
    char d1[11], d2[11];
    csm_day_format(r->from, d1);
    csm_day_format(r->to, d2);
    json_t *o = json_object();
    json_object_set_new(o, "shop_id", json_string(r->shop));
    json_object_set_new(o, "day", json_string(d1));
    if (r->to != r->from)
        json_object_set_new(o, "to", json_string(d2));
    json_object_set_new(o, "board", block_json(r->reg, &r->board));
    json_object_set_new(o, "allday", block_json(r->reg, &r->allday));

    json_t *agents = json_object();
    for (size_t i = 0; i < r->agents.n; i++) {
        if (only_agent && strcmp(only_agent, r->agents.v[i].name))
            continue;
        json_t *a = json_object();
        put_figures(r->reg, a, r->agents.v[i].b->c, CSM_FIGURE_AGENTS);
        json_object_set_new(agents, r->agents.v[i].name, a);
    }
    json_object_set_new(o, "agents", agents);

    json_t *intents = json_object(), *by = json_object();
    int64_t total = csm_report_total_rated_1_2(r->reg, &r->intents);
    int rated_1_2 = csm_figure_lookup(r->reg, "rated_1_2");
    for (size_t i = 0; i < r->intents.n; i++) {
        const csm_block *b = r->intents.v[i].b;
        json_t *io = json_object();
        put_figures(r->reg, io, b->c, CSM_FIGURE_INTENTS);
        json_object_set_new(io, "dissatisfaction_contribution",
                            total ? json_real((double)counter(b, rated_1_2) / (double)total)
                                  : json_null());
        json_object_set_new(by, r->intents.v[i].name, io);
    }
    json_object_set_new(intents, "by_intent", by);
    const char *lists[2] = {"top10_sessions", "top10_contribution"};
    for (int k = 0; k < 2; k++) {
        size_t n;
        csm_report_named *v = csm_report_top10(r->reg, &r->intents, k, &n);
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_string(v[i].name));
        free(v);
        json_object_set_new(intents, lists[k], a);
    }
    json_object_set_new(o, "intents", intents);

    json_t *alerts = json_array();
    for (size_t i = 0; i < r->n_alerts; i++)
        json_array_append_new(alerts, csm_report_alert_json(&r->alerts[i]));
    json_object_set_new(o, "alerts", alerts);
    return o;
}
