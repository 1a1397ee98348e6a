/* csmetrics dashboard: a web page for a shop manager, served by this
 * process (cmd_dashboard.c) on the shared HTTP server, with a JSON API over
 * the report layer (dashboard_api.c), the live alert feed as server-sent
 * events (dashboard_sse.c) and the page's files (dashboard_files.c). */
#ifndef CSM_DASHBOARD_H
#define CSM_DASHBOARD_H

#include <jansson.h>
#include <limits.h>

#include "config.h"
#include "figures.h"
#include "http_server.h"
#include "shoptime.h"

typedef struct csm_dashboard {
    csm_config cfg;
    /* Shop zones and targets. Only looked up after start (no offsets are
     * computed, which would switch $TZ), so the handlers' threads share it. */
    csm_shoptime *st;
    /* The figures the chain's plugins declare (read-only once loaded). */
    csm_registry *reg;
    char web_dir[PATH_MAX];
} csm_dashboard;

/* GET /api/shops, /api/report, /api/figures (JSON). */
void csm_dash_api_shops(void *opaque, const csm_http_request *req, csm_http_reply *reply);
void csm_dash_api_report(void *opaque, const csm_http_request *req, csm_http_reply *reply);
void csm_dash_api_figures(void *opaque, const csm_http_request *req, csm_http_reply *reply);
/* GET /api/alerts/stream?shop=S: server-sent events. */
void csm_dash_api_alerts(void *opaque, const csm_http_request *req, csm_http_reply *reply);
/* GET /, /app.js, /style.css and /assets/NAME from the web directory. */
void csm_dash_file(void *opaque, const csm_http_request *req, csm_http_reply *reply);

/* 1 if @p shop has figures (is in P:shops); 0 with a 404 naming the known
 * shops, or -1 with a 503, set in @p reply. */
int csm_dash_known_shop(const csm_dashboard *d, const char *shop, csm_http_reply *reply);
/* A JSON reply; takes @p j. */
void csm_dash_reply_json(csm_http_reply *reply, int status, json_t *j);
/* {"error": text} with @p status. */
void csm_dash_reply_error(csm_http_reply *reply, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Every figure's name, label, kind, unit, scopes and inputs: the one
 * place the dashboard reads the figure registry. */
json_t *csm_dash_figures_json(const csm_registry *reg);

/* The web directory: @p option (--web), else $CSM_WEB_DIR, else the build
 * tree's, else the installed one; it must hold index.html and the chart
 * library. 0, or -1 with the reason in err. */
int csm_dash_find_web_dir(const char *option, char *out, size_t n, char *err, size_t errlen);

#endif
