/* csmetrics report: reads one shop's counters for a day or a range of days
 * from Redis and prints the board (operations.md). The figures are those
 * the configured chain's plugins declare; rates are computed from counters
 * summed over the range, never stored: that is what makes them add up
 * correctly over days. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "civil_day.h"
#include "report.h"
#include "report_text.h"

/* Longer than any retention (day_ttl_days defaults to 400). */
#define MAX_RANGE_DAYS 1000

/* ---- command ------------------------------------------------------------------ */

static int print_report(const csm_config *cfg, const csm_report *r, int json, int agents,
                        const char *agent)
{
    if (json) {
        json_t *j = csm_report_json(r, agent);
        int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) || puts("") == EOF;
        json_decref(j);
        return rc;
    }
    char err[512];
    csm_shoptime *st = csm_shoptime_new(cfg, err, sizeof err);
    if (!st) {
        fprintf(stderr, "csmetrics report: %s\n", err);
        return 1;
    }
    csm_report_text o = {.cfg = cfg, .st = st, .all_agents = agents, .only_agent = agent};
    int rc = 0;
    int printed = csm_report_print(stdout, r, &o);
    if (printed) {
        if (printed == -1)
            fprintf(stderr, "csmetrics report: agent '%s' has no figures on these days\n", agent);
        else
            fprintf(stderr, "csmetrics report: out of memory\n");
        rc = 1;
    }
    csm_shoptime_free(st);
    return rc;
}

/* Reads and prints; the process exit code. An unknown shop is the
 * caller's mistake (2), like a bad option; Redis trouble is 1. */
static int report(const csm_config *cfg, csm_report *r, int json, int agents, const char *agent)
{
    char err[512];
    csm_registry *reg = csm_registry_load(cfg, err, sizeof err);
    if (!reg) {
        fprintf(stderr, "csmetrics report: %s\n", err);
        return 2;
    }
    r->reg = reg;
    int rc = csm_report_read(cfg, r, err, sizeof err);
    if (rc)
        fprintf(stderr, "csmetrics report: %s\n", err);
    else
        rc = print_report(cfg, r, json, agents, agent);
    if (!rc && fflush(stdout)) {
        fprintf(stderr, "csmetrics report: cannot write the output\n");
        rc = 1;
    }
    csm_report_free(r);
    csm_registry_free(reg);
    return rc == CSM_REPORT_UNKNOWN_SHOP ? 2 : rc ? 1 : 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: csmetrics report [-c FILE] [--redis HOST:PORT] --shop S --day YYYY-MM-DD\n"
               "                        [--to YYYY-MM-DD] [--agent A | --agents] [--json]\n"
               "Prints a shop's board, per-agent table, intents top 10 and alerts for a day\n"
               "or a range of days (counters summed, rates computed from the sums): every\n"
               "figure the configured plugins declare. --agents adds every agent's full\n"
               "figures to the text; --agent A prints only agent A's.\n");
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
    int rc = report(&cfg, &r, json, agents, agent);
    csm_config_free(&cfg);
    return rc;
}
