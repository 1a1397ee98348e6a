/* The report as JSON, in the shape of operations.md, and the intents'
 * rankings it shares with the text report. */
#include <stdlib.h>
#include <string.h>

#include "civil_day.h"
#include "report.h"

/* ---- intents top 10 ------------------------------------------------------ */

static int by_sessions(const void *a, const void *b)
{
    const csm_report_named *x = a, *y = b;
    int64_t sx = x->b->c[CSM_F_SESSIONS], sy = y->b->c[CSM_F_SESSIONS];
    return sx != sy ? (sx < sy ? 1 : -1) : strcmp(x->name, y->name);
}

/* Contributions share one denominator, so ranking by rated_1_2 is ranking
 * by contribution, without comparing doubles. */
static int by_contribution_cmp(const void *a, const void *b)
{
    const csm_report_named *x = a, *y = b;
    int64_t sx = x->b->c[CSM_F_RATED_1_2], sy = y->b->c[CSM_F_RATED_1_2];
    return sx != sy ? (sx < sy ? 1 : -1) : strcmp(x->name, y->name);
}

csm_report_named *csm_report_top10(const csm_report_list *l, int by_contribution, size_t *n)
{
    int (*cmp)(const void *, const void *) = by_contribution ? by_contribution_cmp : by_sessions;
    csm_report_named *v = calloc(l->n ? l->n : 1, sizeof *v);
    if (!v) {
        *n = 0;
        return NULL;
    }
    if (l->n) {
        memcpy(v, l->v, l->n * sizeof *v);
        qsort(v, l->n, sizeof *v, cmp);
    }
    *n = l->n < 10 ? l->n : 10;
    return v;
}

int64_t csm_report_total_rated_1_2(const csm_report_list *l)
{
    int64_t t = 0;
    for (size_t i = 0; i < l->n; i++)
        t += l->v[i].b->c[CSM_F_RATED_1_2];
    return t;
}

static json_t *int_or_null(long long v)
{
    return v == CSM_REPORT_NO_TS ? json_null() : json_integer(v);
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
    int64_t total = csm_report_total_rated_1_2(&r->intents);
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
        csm_report_named *v = csm_report_top10(&r->intents, k, &n);
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
