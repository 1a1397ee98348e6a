/* csmetrics report: reads one shop's counters for a day or a range of days
 * from Redis and prints the board (operations.md). Rates are computed here,
 * from counters summed over the range, never stored: that is what makes
 * them add up correctly over days. */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "civil_day.h"
#include "report.h"

/* Longer than any retention (day_ttl_days defaults to 400). */
#define MAX_RANGE_DAYS 1000
#define TEXT_ALERTS 20

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

/* A shop-day alert is filed under its day but judges a week: without this,
 * one on a day with few or no ratings looks like a mistake. */
static void print_shop_day_alert_note(void)
{
    printf("note: SATISFACTION_BELOW_TARGET of day D judges the 7 days D-6 .. D (board "
           "ratings), decided once D+1 is over: it can appear on a quiet day\n");
}

static void print_text(const csm_report *r, int agents, const char *only_agent)
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

    int64_t total = csm_report_total_rated_1_2(&r->intents);
    size_t n1, n2;
    csm_report_named *ts = csm_report_top10(&r->intents, 0, &n1);
    csm_report_named *tc = csm_report_top10(&r->intents, 1, &n2);
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
    print_shop_day_alert_note();
    for (size_t i = first; i < r->n_alerts; i++) {
        const csm_report_alert *al = &r->alerts[i];
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
    csm_report r;
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
    if (csm_report_read(&cfg, &r, err, sizeof err)) {
        fprintf(stderr, "csmetrics report: %s\n", err);
        csm_report_free(&r);
        csm_config_free(&cfg);
        return 1;
    }
    int rc = 0;
    if (json) {
        json_t *j = csm_report_json(&r, agent);
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
    csm_report_free(&r);
    csm_config_free(&cfg);
    return rc;
}
