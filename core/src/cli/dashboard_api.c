/* The dashboard's JSON API: every figure is read through the report layer
 * (report.h), exactly as `csmetrics report --json` reads it. */
#define _GNU_SOURCE /* vasprintf */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil_day.h"
#include "dashboard.h"
#include "report.h"

#define JSON_TYPE "application/json; charset=utf-8"
/* As `report --to`: longer than any retention (day_ttl_days defaults to 400). */
#define MAX_RANGE_DAYS 1000

void csm_dash_reply_json(csm_http_reply *reply, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(j);
    if (!text)
        csm_http_reply_printf(reply, 500, NULL, "out of memory\n");
    else
        csm_http_reply_take(reply, status, JSON_TYPE, text, strlen(text));
}

void csm_dash_reply_error(csm_http_reply *reply, int status, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    csm_dash_reply_json(reply, status, n < 0 ? NULL : json_pack("{s:s}", "error", text));
    free(text);
}

/* The shop's target of every figure that declares one (csm_figure_target:
 * the shop's own setting, else the declared value): {"name": {"value", "dir"}}. */
static json_t *targets_json(const csm_dashboard *d, const char *shop)
{
    json_t *o = json_object();
    for (size_t i = 0; i < d->reg->n; i++) {
        double t;
        csm_figure_target_dir dir = csm_figure_target(d->reg, (int)i, &d->cfg, d->st, shop, &t);
        if (dir != CSM_TARGET_NONE)
            json_object_set_new(o, d->reg->fig[i].name,
                                json_pack("{s:f, s:s}", "value", t, "dir",
                                          dir == CSM_TARGET_AT_LEAST ? "at_least" : "at_most"));
    }
    return o;
}

static json_t *shop_json(const csm_dashboard *d, const char *shop)
{
    return json_pack("{s:s, s:s, s:o}", "id", shop, "timezone", csm_shoptime_zone(d->st, shop),
                     "targets", targets_json(d, shop));
}

void csm_dash_api_shops(void *opaque, const csm_http_request *req, csm_http_reply *reply)
{
    (void)req;
    const csm_dashboard *d = opaque;
    char **shops, err[512];
    size_t n;
    if (csm_report_list_shops(&d->cfg, &shops, &n, err, sizeof err)) {
        csm_dash_reply_error(reply, 503, "%s", err);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, shop_json(d, shops[i]));
    csm_report_shops_free(shops, n);
    csm_dash_reply_json(reply, 200, json_pack("{s:o}", "shops", a));
}

int csm_dash_known_shop(const csm_dashboard *d, const char *shop, csm_http_reply *reply)
{
    char **shops, err[512];
    size_t n;
    if (csm_report_list_shops(&d->cfg, &shops, &n, err, sizeof err)) {
        csm_dash_reply_error(reply, 503, "%s", err);
        return -1;
    }
    int found = 0;
    json_t *known = json_array();
    for (size_t i = 0; i < n; i++) {
        found |= !strcmp(shops[i], shop);
        json_array_append_new(known, json_string(shops[i]));
    }
    csm_report_shops_free(shops, n);
    if (!found)
        csm_dash_reply_json(
            reply, 404,
            json_pack("{s:s+, s:o}", "error", "no figures for shop ", shop, "known_shops", known));
    else
        json_decref(known);
    return found;
}

/* The shop and days of a report request; 0, or -1 with a 400 set. */
static int report_args(const csm_http_request *req, csm_report *r, csm_http_reply *reply)
{
    const char *shop = csm_http_query(req, "shop"), *day = csm_http_query(req, "day"),
               *to = csm_http_query(req, "to");
    if (!shop || !*shop || !day) {
        csm_dash_reply_error(reply, 400, "shop and day (YYYY-MM-DD) are required");
        return -1;
    }
    r->shop = shop;
    if (csm_day_parse(day, &r->from) || (to && *to && csm_day_parse(to, &r->to))) {
        csm_dash_reply_error(reply, 400, "day and to: expected a date YYYY-MM-DD");
        return -1;
    }
    if (!to || !*to)
        r->to = r->from;
    if (r->to < r->from || r->to - r->from >= MAX_RANGE_DAYS) {
        csm_dash_reply_error(reply, 400, "to must be on or after day, at most %d days",
                             MAX_RANGE_DAYS);
        return -1;
    }
    return 0;
}

void csm_dash_api_report(void *opaque, const csm_http_request *req, csm_http_reply *reply)
{
    const csm_dashboard *d = opaque;
    csm_report r;
    memset(&r, 0, sizeof r);
    if (report_args(req, &r, reply))
        return;
    r.reg = d->reg;
    char err[512];
    /* csm_report_read checks the shop itself; only an unknown one costs the
     * second read that lists the known shops for the 404 (which sets the
     * reply unless the shop appeared meanwhile). */
    int rc = csm_report_read(&d->cfg, &r, err, sizeof err);
    if (!rc)
        csm_dash_reply_json(reply, 200, csm_report_json(&r, NULL));
    else if (rc != CSM_REPORT_UNKNOWN_SHOP || csm_dash_known_shop(d, r.shop, reply) == 1)
        csm_dash_reply_error(reply, 503, "%s", err);
    csm_report_free(&r);
}

void csm_dash_api_figures(void *opaque, const csm_http_request *req, csm_http_reply *reply)
{
    (void)req;
    const csm_dashboard *d = opaque;
    csm_dash_reply_json(reply, 200, csm_dash_figures_json(d->reg));
}
