/* `csmetrics dashboard`: serves the shop manager's page and its JSON API
 * until SIGTERM or SIGINT (dashboard.h; docs/dashboard.md). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dashboard.h"
#include "install_paths.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: csmetrics dashboard [-c FILE] [--redis HOST:PORT] --port P [--bind ADDR]\n"
            "                           [--web DIR]\n"
            "  Serves a live dashboard of every shop in Redis at http://ADDR:P/ (ADDR\n"
            "  defaults to 127.0.0.1; --port 0 takes a free port) until SIGTERM or SIGINT,\n"
            "  and prints `DASHBOARD http://ADDR:PORT/` once it listens.\n"
            "  --web DIR: the page's files (default $CSM_WEB_DIR, else the build tree's\n"
            "  web/, else the install's share/csmetrics/web: %s).\n",
            csm_default_dir(CSM_DIR_WEB));
}

typedef struct options {
    csm_cli_common common;
    const char *bind, *web;
    long port;
} options;

/* 0 to run, 1 for --help, -1 on a usage error (message printed). */
static int parse_args(int argc, char **argv, options *o)
{
    o->bind = "127.0.0.1";
    o->port = -1;
    for (int i = 1; i < argc; i++) {
        int c = csm_cli_common_arg(&o->common, argc, argv, &i);
        if (c < 0)
            return -1;
        if (c)
            continue;
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return 1;
        if (strcmp(a, "--port") && strcmp(a, "--bind") && strcmp(a, "--web")) {
            fprintf(stderr, "csmetrics dashboard: unknown option '%s'\n", a);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "csmetrics dashboard: %s needs a value\n", a);
            return -1;
        }
        const char *v = argv[++i];
        char *end;
        if (!strcmp(a, "--bind"))
            o->bind = v;
        else if (!strcmp(a, "--web"))
            o->web = v;
        else if ((o->port = strtol(v, &end, 10)) < 0 || o->port > 65535 || *end || !*v) {
            fprintf(stderr, "csmetrics dashboard: --port: expected 0..65535, got '%s'\n", v);
            return -1;
        }
    }
    if (o->port < 0) {
        fprintf(stderr, "csmetrics dashboard: --port is required\n");
        return -1;
    }
    return 0;
}

/* SIGTERM and SIGINT, blocked before the server starts so that its threads
 * inherit the mask and the signals wait for sigwait() in the main thread. */
static void block_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

static csm_http_server *serve(csm_dashboard *d, const options *o)
{
    static csm_http_route routes[] = {
        {"/api/shops", csm_dash_api_shops, NULL},
        {"/api/report", csm_dash_api_report, NULL},
        {"/api/figures", csm_dash_api_figures, NULL},
        {"/api/alerts/stream", csm_dash_api_alerts, NULL},
        {"/", csm_dash_file, NULL},
        {"/app.js", csm_dash_file, NULL},
        {"/style.css", csm_dash_file, NULL},
        {"/assets/*", csm_dash_file, NULL},
    };
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        routes[i].opaque = d;
    char err[512];
    csm_http_server *s = csm_http_start(o->bind, (int)o->port, routes,
                                        sizeof routes / sizeof *routes, err, sizeof err);
    if (!s) {
        fprintf(stderr, "csmetrics dashboard: %s\n", err);
        return NULL;
    }
    printf("DASHBOARD http://%s%s%s:%d/\n", strchr(o->bind, ':') ? "[" : "", o->bind,
           strchr(o->bind, ':') ? "]" : "", csm_http_port(s));
    fflush(stdout);
    return s;
}

int csm_cmd_dashboard(int argc, char **argv)
{
    options o = {0};
    int p = parse_args(argc, argv, &o);
    if (p) {
        usage(p > 0 ? stdout : stderr);
        return p > 0 ? 0 : 2;
    }
    csm_dashboard d = {0};
    char err[1024];
    if (csm_dash_find_web_dir(o.web, d.web_dir, sizeof d.web_dir, err, sizeof err)) {
        fprintf(stderr, "csmetrics dashboard: %s\n", err);
        return 2;
    }
    if (csm_cli_load_config(&o.common, &d.cfg))
        return 2;
    if (!(d.st = csm_shoptime_new(&d.cfg, err, sizeof err)) ||
        !(d.reg = csm_registry_load(&d.cfg, err, sizeof err))) {
        fprintf(stderr, "csmetrics dashboard: %s\n", err);
        csm_shoptime_free(d.st);
        csm_config_free(&d.cfg);
        return 2;
    }
    sigset_t set;
    int sig;
    block_stop_signals(&set);
    signal(SIGPIPE, SIG_IGN);
    csm_http_server *s = serve(&d, &o);
    if (s)
        sigwait(&set, &sig);
    csm_http_stop(s);
    csm_registry_free(d.reg);
    csm_shoptime_free(d.st);
    csm_config_free(&d.cfg);
    return s ? 0 : 1;
}
