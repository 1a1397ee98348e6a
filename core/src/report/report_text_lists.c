/* The report as text: agents, intents and alerts. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_text.h"

#define AGENT_NAME_W 16
#define AGENT_COL_W 13
#define TEXT_ALERTS 20
#define ALERT_LABEL_W 32
#define ALERT_FIGURE_W 10

/* ---- agents ------------------------------------------------------------ */

/* Line 0 or 1 of a column heading wrapped at a space to fit w columns. */
static void heading_line(char *buf, size_t n, const char *label, size_t w, int line)
{
    size_t len = strlen(label);
    const char *cut = NULL;
    if (len > w - 1)
        for (const char *p = label; *p && (size_t)(p - label) < w; p++)
            if (*p == ' ')
                cut = p;
    if (!cut)
        snprintf(buf, n, "%s", line ? label : "");
    else if (line == 0)
        snprintf(buf, n, "%.*s", (int)(cut - label), label);
    else
        snprintf(buf, n, "%s", cut + 1);
}

static int in_table(const csm_registry *reg, int id)
{
    return csm_figure_in_scope(reg, id, CSM_FIGURE_AGENTS) &&
           (reg->fig[id].flags & CSM_FIGURE_SUMMARY);
}

static void put_table_heading(FILE *out, const csm_registry *reg)
{
    for (int line = 0; line < 2; line++) {
        csm_text_pad(out, line ? "  agent" : "", AGENT_NAME_W + 2);
        for (int id = 0; (size_t)id < reg->n; id++) {
            char buf[64];
            if (!in_table(reg, id))
                continue;
            heading_line(buf, sizeof buf, reg->fig[id].label, AGENT_COL_W, line);
            csm_text_rpad(out, buf, AGENT_COL_W);
        }
        fputc('\n', out);
    }
}

/* The compact table: the figures declared CSM_FIGURE_SUMMARY, rates as
 * bare percentages (--agent A gives the counts). */
static void put_table(FILE *out, const csm_report *r)
{
    const csm_registry *reg = r->reg;
    fputs("agents (all day)\n", out);
    if (!r->agents.n) {
        fputs("  none\n\n", out);
        return;
    }
    put_table_heading(out, reg);
    for (size_t j = 0; j < r->agents.n; j++) {
        fputs("  ", out);
        csm_text_pad(out, r->agents.v[j].name, AGENT_NAME_W);
        for (int id = 0; (size_t)id < reg->n; id++) {
            char main[48], extra[48];
            if (!in_table(reg, id))
                continue;
            csm_text_cell(reg, id, r->agents.v[j].b->c, 1, main, extra, sizeof main);
            fprintf(out, "%*s", AGENT_COL_W, main);
        }
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void put_agent(FILE *out, const csm_registry *reg, const csm_report_named *a)
{
    fprintf(out, "agent %s (all day)\n", a->name);
    for (int id = 0; (size_t)id < reg->n; id++) {
        char main[48], extra[48];
        if (!csm_figure_in_scope(reg, id, CSM_FIGURE_AGENTS) ||
            !csm_text_own_line(reg, id, CSM_FIGURE_AGENTS))
            continue;
        csm_text_cell(reg, id, a->b->c, 0, main, extra, sizeof main);
        fputs("  ", out);
        csm_text_pad(out, reg->fig[id].label, CSM_TEXT_LABEL_W - 2);
        fprintf(out, "%9s%s%s\n", main, extra[0] ? "  " : "", extra);
    }
    fputc('\n', out);
}

void csm_text_agents(FILE *out, const csm_report *r, const csm_report_text *o)
{
    if (!o->only_agent)
        put_table(out, r);
    for (size_t j = 0; j < r->agents.n; j++)
        if (o->only_agent ? !strcmp(o->only_agent, r->agents.v[j].name) : o->all_agents)
            put_agent(out, r->reg, &r->agents.v[j]);
}

/* ---- intents ----------------------------------------------------------- */

void csm_text_intents(FILE *out, const csm_report *r)
{
    int sessions = csm_figure_lookup(r->reg, "sessions");
    int rated_1_2 = csm_figure_lookup(r->reg, "rated_1_2");
    int64_t total = csm_report_total_rated_1_2(r->reg, &r->intents);
    size_t n1, n2;
    csm_report_named *ts = csm_report_top10(r->reg, &r->intents, 0, &n1);
    csm_report_named *tc = csm_report_top10(r->reg, &r->intents, 1, &n2);
    fprintf(out, "intents: top by sessions%28s top by share of dissatisfied ratings\n", "");
    if (!n1)
        fputs("  none\n", out);
    for (size_t i = 0; i < n1 && i < n2; i++) {
        char left[64], right[64];
        snprintf(left, sizeof left, "  %-32s %8lld", ts[i].name,
                 sessions >= 0 ? (long long)ts[i].b->c[sessions] : 0LL);
        if (total && rated_1_2 >= 0)
            snprintf(right, sizeof right, "%-32s %6.1f %%", tc[i].name,
                     100.0 * (double)tc[i].b->c[rated_1_2] / (double)total);
        else
            snprintf(right, sizeof right, "%-32s %8s", tc[i].name, "-");
        fprintf(out, "%-52s %s\n", left, right);
    }
    free(ts);
    free(tc);
    fputc('\n', out);
}

/* ---- alerts ------------------------------------------------------------ */

static int by_raised(const void *a, const void *b)
{
    const csm_report_alert *x = *(const csm_report_alert *const *)a;
    const csm_report_alert *y = *(const csm_report_alert *const *)b;
    if (x->raised_ts != y->raised_ts)
        return x->raised_ts < y->raised_ts ? -1 : 1;
    return x < y ? -1 : x > y; /* stream order */
}

/* An alert's figure in the unit its type declares. */
static void alert_figure(char *buf, size_t n, const csm_alert_type *t, long long v)
{
    if (v == CSM_REPORT_NO_TS)
        snprintf(buf, n, "-");
    else if (!t || !strcmp(t->unit, "count"))
        snprintf(buf, n, "%lld", v);
    else if (!strcmp(t->unit, "ms"))
        csm_text_duration(buf, n, (double)v);
    else if (!strcmp(t->unit, "bp"))
        snprintf(buf, n, "%.2f %%", (double)v / 100);
    else
        snprintf(buf, n, "%lld %s", v, t->unit);
}

static void local_time(char *buf, size_t n, const csm_report_text *o, const char *shop,
                       long long ts)
{
    if (ts == CSM_REPORT_NO_TS) {
        snprintf(buf, n, "-");
        return;
    }
    time_t t = (time_t)(ts / 1000 + csm_shoptime_offset(o->st, shop, ts));
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void put_alert(FILE *out, const csm_report *r, const csm_report_text *o,
                      const csm_report_alert *a)
{
    const csm_alert_type *t = csm_alert_type_lookup(r->reg, a->type);
    char when[32], fig[48];
    local_time(when, sizeof when, o, r->shop, a->raised_ts);
    alert_figure(fig, sizeof fig, t, a->figure);
    fprintf(out, "  %s  ", when);
    csm_text_pad(out, t ? t->label : a->type ? a->type : "?", ALERT_LABEL_W);
    fprintf(out, "%*s", ALERT_FIGURE_W, fig);
    if (a->customer_id)
        fprintf(out, "  customer %s", a->customer_id);
    if (a->agent_id)
        fprintf(out, "  agent %s", a->agent_id);
    /* Raised on another day than the one it belongs to (a day's 7-day
     * satisfaction, a request not picked up by midnight): say which. */
    if (a->day && strncmp(when, a->day, 10))
        fprintf(out, "  filed under %s", a->day);
    fputc('\n', out);
}

void csm_text_alerts(FILE *out, const csm_report *r, const csm_report_text *o)
{
    const csm_report_alert **v = calloc(r->n_alerts ? r->n_alerts : 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; v && i < r->n_alerts; i++)
        if (!o->only_agent ||
            (r->alerts[i].agent_id && !strcmp(r->alerts[i].agent_id, o->only_agent)))
            v[n++] = &r->alerts[i];
    if (!v) {
        fputs("alerts: out of memory\n", out);
        return;
    }
    qsort(v, n, sizeof *v, by_raised);
    size_t first = n > TEXT_ALERTS ? n - TEXT_ALERTS : 0;
    fprintf(out, "alerts: %zu%s, times in %s%s\n", n, o->only_agent ? " of this agent" : "",
            csm_shoptime_zone(o->st, r->shop), first ? ", the latest shown" : "");
    fputs("  (an alert is filed under the day of its anchor: the request, reply round or rating\n"
          "  it is about, so it can be raised on a later day; a 7-day satisfaction alert judges\n"
          "  the 7 days ending on its day, so it can come on a quiet day)\n",
          out);
    for (size_t i = first; i < n; i++)
        put_alert(out, r, o, v[i]);
    free(v);
}
