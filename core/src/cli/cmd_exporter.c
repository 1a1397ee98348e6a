/* csmetrics exporter: the board figures of every shop as Prometheus
 * gauges, read from Redis when Prometheus scrapes (docs/running.md,
 * "csmetrics exporter"). Counters and rates are what `report --json`
 * prints for the shop's current local day; nothing is cached between
 * scrapes, so the exporter holds no state and can run anywhere Redis is
 * reachable. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil_day.h"
#include "cli.h"
#include "http_server.h"
#include "log.h"
#include "prom_text.h"
#include "report.h"
#include "sat_target.h"
#include "shoptime.h"
#include "time_bounds.h"

/* ---- the figures served ---------------------------------------------------
 * The only code of the exporter that reads the figure registry (figures.h):
 * which figures a scope has, their unit and their value in a block. */

typedef enum exp_unit { EXP_COUNT, EXP_RATIO, EXP_MS } exp_unit;

typedef struct exp_figure {
    const char *name; /* the figure's name in metrics.md and `report --json` */
    exp_unit unit;
    int id;
} exp_figure;

/* The figures the chain declares for @p where (CSM_FIGURE_BOARD for the
 * board, CSM_FIGURE_AGENTS), in declaration order, as a malloc'd array. */
static exp_figure *exported_figures(const csm_registry *reg, unsigned where, size_t *n)
{
    exp_figure *v = calloc(reg->n ? reg->n : 1, sizeof *v);
    *n = 0;
    for (size_t i = 0; v && i < reg->n; i++) {
        if (!csm_figure_in_scope(reg, (int)i, where))
            continue;
        csm_figure_kind k = reg->fig[i].kind;
        v[(*n)++] = (exp_figure){reg->fig[i].name,
                                 k == CSM_FIGURE_COUNTER   ? EXP_COUNT
                                 : k == CSM_FIGURE_AVERAGE ? EXP_MS
                                                           : EXP_RATIO,
                                 (int)i};
    }
    return v;
}

/* 1 with the figure's value in *v; 0 for a rate whose denominator is 0. */
static int exported_value(const csm_registry *reg, const exp_figure *f, const csm_block *b,
                          double *v)
{
    if (f->unit == EXP_COUNT) {
        *v = (double)b->c[f->id];
        return 1;
    }
    return csm_figure_rate(reg, f->id, b->c, v);
}

/* ---- Prometheus text ------------------------------------------------------- */

/* One metric family: its samples are written to a buffer of their own while
 * the shops are read, so that each family comes out whole, as the text
 * format requires, without keeping the shops' reports. */
typedef struct family {
    char name[128];
    csm_writer samples;
} family;

static int family_open(family *fam, const char *prefix, const char *figure)
{
    snprintf(fam->name, sizeof fam->name, "%s%s", prefix, figure);
    memset(&fam->samples, 0, sizeof fam->samples);
    return 0;
}

static void family_close(family *fam)
{
    csm_writer_free(&fam->samples);
}

/* `NAME{shop="S",day="D"[,agent="A"]} VALUE`. */
static void put_sample(family *fam, const char *shop, const char *day, const char *agent, double v)
{
    csm_prom_label labels[3] = {{"shop", shop}};
    size_t n = 1;
    if (day)
        labels[n++] = (csm_prom_label){"day", day};
    if (agent)
        labels[n++] = (csm_prom_label){"agent", agent};
    csm_prom_f64(&fam->samples, fam->name, labels, n, v);
}

static const char *unit_help(exp_unit u)
{
    return u == EXP_COUNT ? "counter"
           : u == EXP_MS  ? "average in milliseconds (absent while its denominator is 0)"
                          : "rate as a 0..1 ratio (absent while its denominator is 0)";
}

/* ---- the exporter ------------------------------------------------------------ */

typedef struct exporter {
    const csm_config *cfg;
    csm_shoptime *st; /* not thread-safe (it switches $TZ): used under lock */
    int agents;
    int has_day;
    int32_t day;
    const csm_registry *reg; /* the figures the chain's plugins declare */
    exp_figure *board, *agent;
    size_t n_board, n_agent;
    /* One scrape at a time: a Redis connection at most, whatever
     * Prometheus does. */
    pthread_mutex_t lock;
    int redis_ok; /* the last scrape's outcome, for the log */
} exporter;

typedef struct scrape {
    family *board, *agent, target;
    size_t shops;
} scrape;

static void scrape_close(const exporter *x, scrape *s)
{
    for (size_t i = 0; s->board && i < x->n_board; i++)
        family_close(&s->board[i]);
    for (size_t i = 0; s->agent && i < x->n_agent; i++)
        family_close(&s->agent[i]);
    family_close(&s->target);
    free(s->board);
    free(s->agent);
}

static int scrape_open(const exporter *x, scrape *s)
{
    memset(s, 0, sizeof *s);
    s->board = calloc(x->n_board ? x->n_board : 1, sizeof *s->board);
    s->agent = calloc(x->n_agent ? x->n_agent : 1, sizeof *s->agent);
    int rc =
        s->board && s->agent && !family_open(&s->target, "csmetrics_shop_", "satisfaction_target")
            ? 0
            : -1;
    for (size_t i = 0; !rc && i < x->n_board; i++)
        rc = family_open(&s->board[i], "csmetrics_board_", x->board[i].name);
    for (size_t i = 0; !rc && i < x->n_agent; i++)
        rc = family_open(&s->agent[i], "csmetrics_agent_", x->agent[i].name);
    return rc;
}

/* The samples of one shop's report. */
static void add_shop(const exporter *x, scrape *s, const csm_report *r)
{
    char day[11];
    csm_day_format(r->from, day);
    double v;
    for (size_t i = 0; i < x->n_board; i++)
        if (exported_value(x->reg, &x->board[i], &r->board, &v))
            put_sample(&s->board[i], r->shop, day, NULL, v);
    for (size_t a = 0; a < r->agents.n; a++)
        for (size_t i = 0; i < x->n_agent; i++)
            if (exported_value(x->reg, &x->agent[i], r->agents.v[a].b, &v))
                put_sample(&s->agent[i], r->shop, day, r->agents.v[a].name, v);
    int64_t bp = csm_sbt_target_bp(x->cfg, x->st, r->shop);
    put_sample(&s->target, r->shop, NULL, NULL, (double)bp / 10000.0);
}

/* Reads every shop on one connection: per shop one pipelined read of its
 * day (csm_report_read_on), plus one of its agents' hashes with --agents. */
static int read_shops(exporter *x, scrape *s, char *err, size_t errlen)
{
    csm_report_redis *rr = csm_report_connect(x->cfg, err, errlen);
    if (!rr)
        return -1;
    char **shops;
    size_t n;
    int rc = csm_report_shops(rr, &shops, &n, err, errlen);
    csm_ts now = csm_wall_clock_ms();
    for (size_t i = 0; !rc && i < n; i++) {
        csm_report r;
        memset(&r, 0, sizeof r);
        r.shop = shops[i];
        r.reg = x->reg;
        r.from = r.to = x->has_day ? x->day : csm_shoptime_day(x->st, shops[i], now);
        r.skip = CSM_REPORT_SKIP_INTENTS | CSM_REPORT_SKIP_ALERTS |
                 (x->agents ? 0 : CSM_REPORT_SKIP_AGENTS);
        rc = csm_report_read_on(rr, &r, err, errlen);
        if (!rc) {
            add_shop(x, s, &r);
            s->shops++;
        }
        csm_report_free(&r);
    }
    csm_report_shops_free(shops, n);
    csm_report_disconnect(rr);
    return rc;
}

static void put_family(csm_writer *out, family *fam, const char *help)
{
    csm_prom_family(out, fam->name, "gauge", help);
    if (fam->samples.len)
        csm_writer_put_bytes(out, fam->samples.data, fam->samples.len);
}

static void put_figure_family(csm_writer *out, const exp_figure *f, family *fam, const char *scope)
{
    char help[256];
    snprintf(help, sizeof help, "%s %s, %s, of the shop-local day", scope, f->name,
             unit_help(f->unit));
    put_family(out, fam, help);
}

static void write_figures(const exporter *x, scrape *s, csm_writer *out)
{
    for (size_t i = 0; i < x->n_board; i++)
        put_figure_family(out, &x->board[i], &s->board[i], "Shop board (assessment window):");
    for (size_t i = 0; x->agents && i < x->n_agent; i++)
        put_figure_family(out, &x->agent[i], &s->agent[i], "Per agent (whole day):");
    put_family(out, &s->target,
               "The shop's satisfaction target as a 0..1 ratio (alerts.satisfaction_target, "
               "shops.<id>.satisfaction_target)");
}

/* The whole /metrics page; Redis unreachable still gives a page, with
 * csmetrics_exporter_redis_up 0 and no figures. */
static void scrape_all(exporter *x, csm_writer *out)
{
    int64_t t0 = csm_monotonic_ms();
    scrape s;
    char err[512] = "out of memory";
    int rc = scrape_open(x, &s) ? -1 : read_shops(x, &s, err, sizeof err);
    /* One line when Redis goes away and one when it is back, not one per scrape. */
    if (rc && x->redis_ok)
        csm_logf(CSM_LOG_ERROR, "exporter", "scrape: %s; serving no figures until it works", err);
    else if (!rc && !x->redis_ok)
        csm_logf(CSM_LOG_INFO, "exporter", "scrape: read %zu shops from Redis", s.shops);
    x->redis_ok = !rc;
    if (!rc)
        write_figures(x, &s, out);
    csm_prom_family(out, "csmetrics_exporter_redis_up", "gauge",
                    "1 if this scrape read every shop from Redis, 0 if it could not (see the log)");
    csm_prom_i64(out, "csmetrics_exporter_redis_up", NULL, 0, rc ? 0 : 1);
    csm_prom_family(out, "csmetrics_exporter_shops", "gauge",
                    "Shops read by this scrape (P:shops)");
    csm_prom_u64(out, "csmetrics_exporter_shops", NULL, 0, rc ? 0 : s.shops);
    csm_prom_family(out, "csmetrics_exporter_scrape_duration_seconds", "gauge",
                    "Time this scrape took to read Redis");
    csm_prom_f64(out, "csmetrics_exporter_scrape_duration_seconds", NULL, 0,
                 (double)(csm_monotonic_ms() - t0) / 1000.0);
    scrape_close(x, &s);
}

static void on_metrics(void *opaque, const csm_http_request *req, csm_http_reply *reply)
{
    (void)req;
    exporter *x = opaque;
    csm_writer out = {0};
    pthread_mutex_lock(&x->lock);
    scrape_all(x, &out);
    pthread_mutex_unlock(&x->lock);
    /* The writer owns a malloc'd buffer: the reply takes it over. */
    csm_http_reply_take(reply, 200, CSM_PROM_CONTENT_TYPE, (char *)out.data, out.len);
}

static void on_healthz(void *opaque, const csm_http_request *req, csm_http_reply *reply)
{
    (void)opaque, (void)req;
    csm_http_reply_printf(reply, 200, NULL, "ok\n");
}

/* ---- command ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f, "usage: csmetrics exporter [-c FILE] [--redis HOST:PORT] --port P [--bind ADDR]\n"
               "                          [--agents] [--day YYYY-MM-DD]\n"
               "Serves the board figures of every shop (redis P:shops) for Prometheus:\n"
               "  /metrics  gauges csmetrics_board_<figure>{shop,day}, read from Redis at each\n"
               "            scrape, for each shop's current local day (--day: that day);\n"
               "            --agents adds csmetrics_agent_<figure>{shop,day,agent}\n"
               "  /healthz  200 while the process runs\n"
               "--bind defaults to http.bind of the configuration (127.0.0.1).\n"
               "SIGTERM or SIGINT stops it.\n");
}

typedef struct exporter_args {
    csm_cli_common common;
    const char *port, *bind, *day;
    int agents;
} exporter_args;

/* 1: run; 0: exit 0 (--help); -1: exit 2 (message printed). */
static int parse_args(int argc, char **argv, exporter_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        int c = csm_cli_common_arg(&a->common, argc, argv, &i);
        if (c < 0)
            return -1;
        if (c)
            continue;
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "--agents")) {
            a->agents = 1;
        } else if (!strcmp(o, "--port") || !strcmp(o, "--bind") || !strcmp(o, "--day")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "csmetrics exporter: %s needs a value\n", o);
                return -1;
            }
            const char **slot = o[2] == 'p' ? &a->port : o[2] == 'b' ? &a->bind : &a->day;
            *slot = argv[++i];
        } else {
            fprintf(stderr, "csmetrics exporter: unknown option '%s'\n", o);
            usage(stderr);
            return -1;
        }
    }
    return 1;
}

/* --port as a number 0..65535 (0: any free port, said on stderr). */
static int parse_port(const char *s, int *port)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : -1;
    if (!s || !*s || *end || v < 0 || v > 65535) {
        fprintf(stderr, "csmetrics exporter: --port: expected a port 0..65535, got '%s'\n",
                s ? s : "nothing");
        return -1;
    }
    *port = (int)v;
    return 0;
}

/* Serves until SIGTERM or SIGINT; the signals are blocked before the
 * server's threads start, so only sigwait() sees them. */
static int serve(exporter *x, const char *bind, int port)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    const csm_http_route routes[] = {{"/metrics", on_metrics, x}, {"/healthz", on_healthz, x}};
    char err[256];
    csm_http_server *srv = csm_http_start(bind, port, routes, 2, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "csmetrics exporter: %s\n", err);
        return 1;
    }
    csm_logf(CSM_LOG_INFO, "exporter", "serving http://%s:%d/metrics", bind, csm_http_port(srv));
    int sig;
    sigwait(&stop, &sig);
    csm_logf(CSM_LOG_INFO, "exporter", "stopping");
    csm_http_stop(srv);
    return 0;
}

int csm_cmd_exporter(int argc, char **argv)
{
    exporter_args a;
    int p = parse_args(argc, argv, &a);
    if (p <= 0)
        return p ? 2 : 0;
    exporter x = {.agents = a.agents, .redis_ok = 1};
    int port;
    if (parse_port(a.port, &port))
        return 2;
    if (a.day && csm_day_parse(a.day, &x.day)) {
        fprintf(stderr, "csmetrics exporter: --day: expected a date YYYY-MM-DD, got '%s'\n", a.day);
        return 2;
    }
    x.has_day = a.day != NULL;
    csm_config cfg;
    if (csm_cli_load_config(&a.common, &cfg))
        return 2;
    char err[512];
    int rc = 1;
    x.cfg = &cfg;
    x.st = csm_shoptime_new(&cfg, err, sizeof err);
    csm_registry *reg = x.st ? csm_registry_load(&cfg, err, sizeof err) : NULL;
    x.reg = reg;
    x.board = reg ? exported_figures(reg, CSM_FIGURE_BOARD, &x.n_board) : NULL;
    x.agent = reg ? exported_figures(reg, CSM_FIGURE_AGENTS, &x.n_agent) : NULL;
    if (!x.st || !reg)
        fprintf(stderr, "csmetrics exporter: %s\n", err);
    else if (!x.board || !x.agent)
        fprintf(stderr, "csmetrics exporter: out of memory\n");
    else {
        pthread_mutex_init(&x.lock, NULL);
        rc = serve(&x, a.bind ? a.bind : cfg.http_bind, port);
        pthread_mutex_destroy(&x.lock);
    }
    free(x.board);
    free(x.agent);
    csm_registry_free(reg);
    csm_shoptime_free(x.st);
    csm_config_free(&cfg);
    return rc;
}
