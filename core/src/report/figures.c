/* The one table of figures (metrics.md). */
#include "figures.h"

#include <stdlib.h>
#include <string.h>

#define B CSM_FIGSCOPE_BLOCK
#define S CSM_FIGSCOPE_SPLIT
#define A CSM_FIGSCOPE_AGENTS
#define I CSM_FIGSCOPE_INTENTS
#define COUNTER(id, nm, lbl, sc) [CSM_F_##id] = {nm, lbl, CSM_FIG_COUNTER, sc, -1, -1, -1}
#define RATE(id, nm, lbl, kind, n, n2, d) [CSM_F_##id] = {nm, lbl, kind, 0, n, n2, d}
#define F(x) CSM_F_##x

const csm_figure csm_figures[CSM_N_FIGURES] = {
    COUNTER(SESSIONS, "sessions", "sessions", I),
    COUNTER(SESSIONS_STARTED, "sessions_started", "sessions", B),
    COUNTER(HUMAN_REQUESTED, "human_requested", "human_req", B),
    COUNTER(ASSIGNED, "assigned", "assigned", B | A),
    RATE(PICKUP_RATE, "pickup_rate", "pickup", CSM_FIG_RATIO, F(ASSIGNED), -1, F(HUMAN_REQUESTED)),
    COUNTER(QUEUE_MS_SUM, "queue_ms_sum", "queue_sum", B),
    RATE(AVG_QUEUE_MS, "avg_queue_ms", "avg_queue", CSM_FIG_AVG_MS, F(QUEUE_MS_SUM), -1,
         F(ASSIGNED)),
    COUNTER(FIRST_REPLY_2M, "first_reply_2m", "1st_2m", B),
    RATE(FIRST_REPLY_2M_RATE, "first_reply_2m_rate", "1st_2m%", CSM_FIG_RATIO, F(FIRST_REPLY_2M),
         -1, F(HUMAN_REQUESTED)),
    COUNTER(FIRST_RESP_MS_SUM, "first_resp_ms_sum", "1st_sum", B | A),
    COUNTER(FIRST_RESP_N, "first_resp_n", "1st_n", B | A),
    RATE(AVG_FIRST_RESP_MS, "avg_first_resp_ms", "avg_1st", CSM_FIG_AVG_MS, F(FIRST_RESP_MS_SUM),
         -1, F(FIRST_RESP_N)),
    COUNTER(ROUNDS, "rounds", "rounds", B | A),
    COUNTER(ROUNDS_ANSWERED, "rounds_answered", "answered", B | A),
    COUNTER(RESP_MS_SUM, "resp_ms_sum", "resp_sum", B | A),
    RATE(AVG_RESP_MS, "avg_resp_ms", "avg_resp", CSM_FIG_AVG_MS, F(RESP_MS_SUM), -1,
         F(ROUNDS_ANSWERED)),
    COUNTER(RESP_30S, "resp_30s", "30s", B | A),
    COUNTER(RESP_60S, "resp_60s", "60s", B | A),
    COUNTER(RESP_3M, "resp_3m", "3m", B | A),
    RATE(RESP_30S_RATE, "resp_30s_rate", "30s%", CSM_FIG_RATIO, F(RESP_30S), -1,
         F(ROUNDS_ANSWERED)),
    RATE(RESP_60S_RATE, "resp_60s_rate", "60s%", CSM_FIG_RATIO, F(RESP_60S), -1,
         F(ROUNDS_ANSWERED)),
    RATE(HUMAN_REPLY_3M_RATE, "human_reply_3m_rate", "3m%", CSM_FIG_RATIO, F(RESP_3M), -1,
         F(ROUNDS)),
    COUNTER(UNSERVED_OFFLINE, "unserved_offline", "offline", B),
    COUNTER(UNSERVED_NOREPLY, "unserved_noreply", "noreply", B | A),
    RATE(UNSERVED_RATE, "unserved_rate", "unserved%", CSM_FIG_RATIO, F(UNSERVED_OFFLINE),
         F(UNSERVED_NOREPLY), F(HUMAN_REQUESTED)),
    COUNTER(INVITED, "invited", "invited", B | S | A),
    COUNTER(RATED, "rated", "rated", B | S | A | I),
    COUNTER(RATED_4_5, "rated_4_5", "4-5", B | S | A),
    COUNTER(RATED_5, "rated_5", "5", B | S | A),
    COUNTER(RATED_1_2, "rated_1_2", "1-2", B | S | I),
    RATE(SATISFACTION_RATE, "satisfaction_rate", "satisf%", CSM_FIG_RATIO, F(RATED_4_5), -1,
         F(RATED)),
    RATE(VERY_SATISFIED_RATE, "very_satisfied_rate", "v.satisf%", CSM_FIG_RATIO, F(RATED_5), -1,
         F(RATED)),
    RATE(DISSATISFIED_RATE, "dissatisfied_rate", "dissat%", CSM_FIG_RATIO, F(RATED_1_2), -1,
         F(RATED)),
    RATE(RATING_RATE, "rating_rate", "rating%", CSM_FIG_RATIO, F(RATED), -1, F(INVITED)),
    COUNTER(FCR_SERVED, "fcr_served", "fcr_served", B),
    COUNTER(FCR_REPEATED, "fcr_repeated", "fcr_rep", B),
    RATE(FCR_3D_RATE, "fcr_3d_rate", "fcr3d%", CSM_FIG_ONE_MINUS, F(FCR_REPEATED), -1,
         F(FCR_SERVED)),
    COUNTER(REFUNDS_FINISHED, "refunds_finished", "refunds", B),
    COUNTER(REFUND_MS_SUM, "refund_ms_sum", "refund_sum", B),
    RATE(AVG_REFUND_MS, "avg_refund_ms", "avg_refund", CSM_FIG_AVG_MS, F(REFUND_MS_SUM), -1,
         F(REFUNDS_FINISHED)),
    COUNTER(AFTERSALE_SEEKERS, "aftersale_seekers", "seekers", B),
    COUNTER(ESCALATIONS, "escalations", "escal", B),
    RATE(RESOLUTION_RATE, "resolution_rate", "resolved%", CSM_FIG_ONE_MINUS, F(ESCALATIONS), -1,
         F(AFTERSALE_SEEKERS)),
};

const char *const csm_splits[CSM_N_SPLITS] = {"presale", "aftersale", "human", "robot"};
const char *const csm_hourly_names[CSM_N_HOURLY] = {
    "sessions_started", "human_requested", "first_reply_2m", "unserved", "rated", "rated_4_5"};

int csm_figure_in_scope(int id, unsigned scope)
{
    if (id < 0 || id >= CSM_N_FIGURES)
        return 0;
    const csm_figure *f = &csm_figures[id];
    if (f->kind == CSM_FIG_COUNTER)
        return (f->scopes & scope) != 0;
    return csm_figure_in_scope(f->num, scope) &&
           (f->num2 < 0 || csm_figure_in_scope(f->num2, scope)) &&
           csm_figure_in_scope(f->den, scope);
}

int csm_figure_lookup(const char *name)
{
    for (int i = 0; i < CSM_N_FIGURES; i++)
        if (!strcmp(csm_figures[i].name, name))
            return i;
    return -1;
}

int csm_figure_rate(int id, const int64_t *counters, double *out)
{
    const csm_figure *f = &csm_figures[id];
    if (f->kind == CSM_FIG_COUNTER || counters[f->den] == 0)
        return 0;
    double num = (double)counters[f->num];
    if (f->num2 >= 0)
        num += (double)counters[f->num2];
    double r = num / (double)counters[f->den];
    *out = f->kind == CSM_FIG_ONE_MINUS ? 1.0 - r : r;
    return 1;
}

static int split_index(const char *s, size_t len)
{
    for (int i = 0; i < CSM_N_SPLITS; i++)
        if (strlen(csm_splits[i]) == len && !memcmp(csm_splits[i], s, len))
            return i;
    return -1;
}

void csm_block_add_field(csm_block *b, const char *field, int64_t value)
{
    if (!strncmp(field, "split.", 6)) {
        const char *s = field + 6, *dot = strchr(s, '.');
        int sp = dot ? split_index(s, (size_t)(dot - s)) : -1;
        int id = sp >= 0 ? csm_figure_lookup(dot + 1) : -1;
        if (id >= 0 && csm_figures[id].kind == CSM_FIG_COUNTER)
            b->split[sp][id] += value;
        return;
    }
    if (!strncmp(field, "hourly.", 7)) {
        const char *name = field + 7, *dot = strrchr(name, '.');
        if (!dot || strlen(dot) != 3 || dot[1] < '0' || dot[1] > '2' || dot[2] < '0' ||
            dot[2] > '9')
            return;
        int hour = (dot[1] - '0') * 10 + (dot[2] - '0');
        if (hour > 23)
            return;
        for (int i = 0; i < CSM_N_HOURLY; i++)
            if (strlen(csm_hourly_names[i]) == (size_t)(dot - name) &&
                !memcmp(csm_hourly_names[i], name, (size_t)(dot - name)))
                b->hourly[i][hour] += value;
        return;
    }
    int id = csm_figure_lookup(field);
    if (id >= 0 && csm_figures[id].kind == CSM_FIG_COUNTER)
        b->c[id] += value;
}
