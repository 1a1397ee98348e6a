/* `csmetrics bench`: the figures of docs/performance.md in one run, on the
 * embedded broker and a redis-server it starts — the daemon's throughput
 * against a bare librdkafka consumer of the same topics, its CPU and
 * Redis cost per event, the open-state scenario, the visible latency at a
 * sustained rate and, under valgrind, instructions per event. Prints one
 * JSON object. */
#define _GNU_SOURCE /* nftw */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "log.h"

/* The figures of the table, with their targets; the open-state ones are
 * per size ("open_rss_bytes_per_session.100000"). */
typedef struct figure_def {
    const char *name, *unit, *op;
    double target;
    int per_open;
    const char *what;
    const char *phase; /* "error.<phase>" in details says why it is null */
} figure_def;

static const figure_def figures[] = {
    {"throughput_ratio", "", ">=", 0.5, 0,
     "steady run throughput / bare librdkafka batch consumer, same topics", "throughput"},
    {"daemon_cpu_us_per_event", "us", "<=", 1.2, 0, "run's user+system CPU per event",
     "throughput"},
    {"callgrind_instructions_per_event_run", "instructions", "<=", 12000, 0,
     "callgrind, run: instructions per event", "instructions"},
    {"callgrind_instructions_per_event_replay", "instructions", "<=", 20000, 0,
     "callgrind, replay: instructions per event", "instructions"},
    {"redis_cpu_us_per_event", "us", "<=", 0.3, 0, "redis-server user+system CPU per event",
     "throughput"},
    {"redis_commands_per_event", "", "<=", 0.1, 0, "Redis commands per event", "throughput"},
    {"redis_bytes_per_event", "B", "<=", 60, 0, "bytes sent to Redis per event", "throughput"},
    {"open_rate_ratio", "", ">=", 0.8, 1,
     "new events/s while N sessions are open / the same with the smallest N", "open"},
    {"open_flush_ms_p99", "ms", "<=", 100, 1, "flush duration p99 while N sessions are open",
     "open"},
    {"open_idle_redis_input_bytes_per_s", "B/s", "<=", 10240, 1,
     "Redis input of the idle daemon holding N open sessions", "open"},
    {"open_rss_bytes_per_session", "B", "<=", 512, 1, "daemon RSS per open session", "open"},
    {"open_kill9_recovery_s", "s", "<=", 10, 1,
     "kill -9 to the checkpoint moving on new events, N open sessions", "open"},
    {"visible_latency_p99_ms_over_lateness", "ms", "<=", 250, 0,
     "p99 event produced -> its counters visible in Redis, minus pipeline.allowed_lateness",
     "latency"},
};

void csm_bench_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

void csm_bench_sample(csm_bench *b, const char *name, double v)
{
    json_t *a = json_object_get(b->samples, name);
    if (!a) {
        a = json_array();
        json_object_set_new(b->samples, name, a);
    }
    json_array_append_new(a, isfinite(v) ? json_real(v) : json_null());
}

void csm_bench_note(csm_bench *b, const char *name, const char *text)
{
    json_object_set_new(b->details, name, json_string(text));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double csm_bench_percentile(double *v, size_t n, double q)
{
    if (!n)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)ceil(q * (double)n);
    return v[i ? i - 1 : 0];
}

/* {value (the median), median, min, max, runs} of a sample array; value
 * null when no run measured it. */
static json_t *summary(json_t *samples)
{
    size_t n = 0, i;
    json_t *s;
    double v[json_array_size(samples) + 1];
    json_array_foreach(samples, i, s) if (json_is_number(s)) v[n++] = json_number_value(s);
    json_t *o = json_object();
    if (!n) {
        json_object_set_new(o, "value", json_null());
        return o;
    }
    qsort(v, n, sizeof *v, cmp_double);
    double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    json_object_set_new(o, "value", json_real(median));
    json_object_set_new(o, "median", json_real(median));
    json_object_set_new(o, "min", json_real(v[0]));
    json_object_set_new(o, "max", json_real(v[n - 1]));
    json_object_set_new(o, "runs", json_integer((json_int_t)n));
    return o;
}

static json_t *figure_json(csm_bench *b, const figure_def *f, const char *name)
{
    json_t *o = summary(json_object_get(b->samples, name));
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "what", json_string(f->what));
    json_object_set_new(o, "unit", json_string(f->unit));
    json_object_set_new(o, "target", json_real(f->target));
    json_object_set_new(o, "op", json_string(f->op));
    json_t *v = json_object_get(o, "value");
    if (json_is_number(v)) {
        double x = json_number_value(v);
        json_object_set_new(o, "met",
                            json_boolean(*f->op == '>' ? x >= f->target : x <= f->target));
    } else {
        json_object_set_new(o, "met", json_null());
        char phase_error[64];
        snprintf(phase_error, sizeof phase_error, "error.%s", f->phase);
        json_t *why = json_object_get(b->details, name);
        if (!why)
            why = json_object_get(b->details, phase_error);
        json_object_set_new(o, "reason", why ? json_incref(why) : json_string("not measured"));
    }
    return o;
}

static json_t *report(csm_bench *b)
{
    json_t *figs = json_array(), *details = json_object();
    for (size_t i = 0; i < sizeof figures / sizeof *figures; i++) {
        const figure_def *f = &figures[i];
        for (int k = 0; k < (f->per_open ? b->n_open : 1); k++) {
            char name[128];
            if (f->per_open)
                snprintf(name, sizeof name, "%s.%ld", f->name, b->open[k]);
            else
                snprintf(name, sizeof name, "%s", f->name);
            json_array_append_new(figs, figure_json(b, f, name));
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach(b->samples, key, v) json_object_set_new(details, key, summary(v));
    json_object_foreach(b->details, key, v) json_object_set(details, key, v);
    json_t *settings =
        json_pack("{s:i, s:I, s:i, s:I, s:I, s:b, s:I}", "partitions", b->partitions, "events",
                  (json_int_t)b->events, "runs", b->runs, "rate", (json_int_t)b->rate, "latency_s",
                  (json_int_t)b->latency_s, "quick", b->quick, "open_partitions",
                  (json_int_t)b->open_partitions);
    json_t *open = json_array();
    for (int k = 0; k < b->n_open; k++)
        json_array_append_new(open, json_integer(b->open[k]));
    json_object_set_new(settings, "open", open);
    json_object_set_new(settings, "shops", json_integer(b->shops));
    json_object_set_new(settings, "session_timeout_ms", json_integer(b->session_timeout_ms));
    json_object_set_new(settings, "allowed_lateness_ms", json_integer(b->cfg.allowed_lateness_ms));
    return json_pack("{s:s, s:o, s:o, s:o}", "version", CSM_VERSION, "settings", settings,
                     "figures", figs, "details", details);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: csmetrics bench [-c FILE] [--partitions N=8] [--events N=400000] [--runs R=3]\n"
            "         [--open N1,N2,...=10000,100000,1000000] [--rate EV_PER_S=50000]\n"
            "         [--latency-seconds S=20] [--shops N=500] [--session-timeout MS=6000]\n"
            "         [--only throughput,latency,open,instructions] [--callgrind] [--quick]\n"
            "         [--keep] [--out FILE]\n"
            "  Starts the embedded broker (librdkafka mock cluster) and a redis-server\n"
            "  (from PATH) on free loopback ports, runs `csmetrics run` against them with\n"
            "  the default chain and settings, and prints one JSON object with every\n"
            "  figure of docs/performance.md: median, min and max over the runs, the\n"
            "  target, and whether it is met. Progress goes to stderr.\n"
            "  --callgrind also counts instructions per event of run and replay under\n"
            "  valgrind (slow). --quick: small sizes, one run (a smoke test).\n"
            "  --keep keeps the working directory (configs, logs) and names it.\n"
            "  -c FILE: topics, schema_dir and plugin_path of a configuration.\n");
}

static int parse_open(csm_bench *b, const char *s)
{
    b->n_open = 0;
    for (const char *p = s; *p;) {
        char *end;
        long n = strtol(p, &end, 10);
        if (end == p || n < 100 || n > 100000000 || b->n_open == CSM_BENCH_MAX_OPEN ||
            (*end && *end != ','))
            return -1;
        b->open[b->n_open++] = n;
        p = *end ? end + 1 : end;
    }
    return b->n_open ? 0 : -1;
}

static int parse_num(const char *s, long lo, long hi, long *out)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (!*s || *end || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

static int parse_only(csm_bench *b, const char *list);

typedef struct bench_args {
    csm_cli_common common;
    const char *out;
    int keep;
} bench_args;

/* Sizes of --quick, then the options given. 0, 1 (--help) or -1. */
static int parse_args(csm_bench *b, bench_args *a, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--quick"))
            b->quick = 1;
    if (b->quick) {
        b->events = 20000, b->runs = 1, b->rate = 5000, b->latency_s = 8;
        b->open[0] = 1000, b->open[1] = 5000, b->n_open = 2;
        b->stream_events = 10000, b->idle_s = 3, b->cg_events = 2000;
        b->partitions = 4, b->open_partitions = 8, b->shops = 50;
    }
    for (int i = 1; i < argc; i++) {
        int c = csm_cli_common_arg(&a->common, argc, argv, &i);
        if (c < 0)
            return -1;
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n = 0;
        if (c || !strcmp(o, "--quick"))
            continue;
        if (!strcmp(o, "-h") || !strcmp(o, "--help"))
            return 1;
        if (!strcmp(o, "--callgrind"))
            b->callgrind = 1;
        else if (!strcmp(o, "--keep"))
            a->keep = 1;
        else if (!v)
            return -1;
        else if (!strcmp(o, "--out"))
            a->out = argv[++i];
        else if (!strcmp(o, "--open") && !parse_open(b, v))
            i++;
        else if (!strcmp(o, "--partitions") && !parse_num(v, 1, 1000, &n))
            b->partitions = (int)n, i++;
        else if (!strcmp(o, "--runs") && !parse_num(v, 1, 100, &n))
            b->runs = (int)n, i++;
        else if (!strcmp(o, "--events") && !parse_num(v, 1000, 100000000, &n))
            b->events = n, i++;
        else if (!strcmp(o, "--only") && !parse_only(b, v))
            i++;
        else if (!strcmp(o, "--session-timeout") && !parse_num(v, 1000, 300000, &n))
            b->session_timeout_ms = n, i++;
        else if (!strcmp(o, "--shops") && !parse_num(v, 1, 30000, &n))
            b->shops = n, i++;
        else if (!strcmp(o, "--rate") && !parse_num(v, 100, 10000000, &n))
            b->rate = n, i++;
        else if (!strcmp(o, "--latency-seconds") && !parse_num(v, 1, 3600, &n))
            b->latency_s = n, i++;
        else
            return -1;
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(path);
}

static const struct {
    const char *name;
    int (*fn)(csm_bench *b, char *err, size_t errlen);
} phases[] = {{"throughput", csm_bench_throughput},
              {"latency", csm_bench_latency},
              {"open", csm_bench_open_state},
              {"instructions", csm_bench_instructions}};

/* A phase that fails leaves its figures null, with its error as their
 * reason, and the others still run. The number of phases that failed. */
static int run_phases(csm_bench *b)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof phases / sizeof *phases; i++) {
        char err[1024] = "", name[64];
        snprintf(name, sizeof name, "error.%s", phases[i].name);
        if (!(b->phases & 1u << i)) {
            csm_bench_note(b, name, "not run: --only");
            continue;
        }
        if (phases[i].fn(b, err, sizeof err) == 0)
            continue;
        fprintf(stderr, "csmetrics bench: %s: %s\n", phases[i].name, err);
        csm_bench_note(b, name, err);
        failed++;
    }
    return failed;
}

/* "--only throughput,open": the phases' bits. */
static int parse_only(csm_bench *b, const char *list)
{
    b->phases = 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ","), i = 0;
        while (i < sizeof phases / sizeof *phases &&
               (strlen(phases[i].name) != n || strncmp(phases[i].name, p, n)))
            i++;
        if (i == sizeof phases / sizeof *phases)
            return -1;
        b->phases |= 1u << i;
        p += n + (p[n] == ',');
    }
    return b->phases ? 0 : -1;
}

static int write_report(csm_bench *b, const char *out)
{
    json_t *r = report(b);
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "csmetrics bench: %s: %s\n", out, strerror(errno));
        json_decref(r);
        return -1;
    }
    json_dumpf(r, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', f);
    json_decref(r);
    return f == stdout ? fflush(f) : fclose(f);
}

int csm_cmd_bench(int argc, char **argv)
{
    csm_bench b = {.partitions = 8,
                   .runs = 3,
                   .events = 400000,
                   .rate = 50000,
                   .latency_s = 20,
                   .open = {10000, 100000, 1000000},
                   .n_open = 3,
                   .open_partitions = 32,
                   .stream_events = 200000,
                   .idle_s = 10,
                   .cg_events = 20000,
                   .shops = 500,
                   .session_timeout_ms = 6000,
                   .phases = ~0u};
    bench_args a = {0};
    int p = parse_args(&b, &a, argc, argv);
    if (p) {
        usage(p > 0 ? stdout : stderr);
        return p > 0 ? 0 : 2;
    }
    if (csm_cli_load_config(&a.common, &b.cfg))
        return 2;
    snprintf(b.dir, sizeof b.dir, "%s/csm-bench.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    char err[1024] = "";
    csm_bench_kill_children_on_signal();
    /* The in-process broker's notices are not the bench's output. */
    csm_log_set_level(CSM_LOG_WARN);
    int rc = 1;
    b.samples = json_object();
    b.details = json_object();
    if (!mkdtemp(b.dir)) {
        fprintf(stderr, "csmetrics bench: %s: %s\n", b.dir, strerror(errno));
        goto out;
    }
    if (csm_bench_redis_start(&b.redis, b.dir, err, sizeof err) == 0) {
        rc = run_phases(&b) ? 1 : 0;
        csm_bench_redis_stop(&b.redis);
        if (a.keep)
            csm_bench_note(&b, "workdir", b.dir);
        if (write_report(&b, a.out))
            rc = 1;
    } else {
        fprintf(stderr, "csmetrics bench: %s\n", err);
    }
    if (!a.keep)
        nftw(b.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
out:
    json_decref(b.samples);
    json_decref(b.details);
    csm_config_free(&b.cfg);
    return rc;
}
