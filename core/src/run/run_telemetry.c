/* The loop's side of the telemetry (run_telemetry.h) and the HTTP endpoint
 * on http.bind:http.port: /metrics, /healthz, /readyz. The loop keeps its
 * figures in r->tel_now and copies them, under a mutex, to what the
 * handlers read; a handler never touches an engine, librdkafka or hiredis. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_server.h"
#include "log.h"
#include "prom_text.h"
#include "run_internal.h"

struct csm_run_tel {
    pthread_mutex_t mu;
    csm_tel_snap pub; /* the loop's last publication */
    csm_tel_names names;
    csm_http_route routes[3];
    csm_http_server *http;
};

static uint64_t rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    int got = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return got == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static void on_metrics(void *opaque, const csm_http_request *req, csm_http_reply *rep)
{
    (void)req;
    struct csm_run_tel *t = opaque;
    uint64_t rss = rss_bytes();
    csm_writer w = {0};
    char why[512];
    pthread_mutex_lock(&t->mu);
    int ready = csm_tel_ready(&t->pub, csm_monotonic_ms(), why, sizeof why);
    csm_tel_format(&w, &t->pub, &t->names, ready, rss);
    pthread_mutex_unlock(&t->mu);
    csm_http_reply_take(rep, 200, CSM_PROM_CONTENT_TYPE, (char *)w.data, w.len);
}

static void on_healthz(void *opaque, const csm_http_request *req, csm_http_reply *rep)
{
    (void)opaque, (void)req;
    csm_http_reply_printf(rep, 200, NULL, "ok\n");
}

static void on_readyz(void *opaque, const csm_http_request *req, csm_http_reply *rep)
{
    (void)req;
    struct csm_run_tel *t = opaque;
    char why[512];
    pthread_mutex_lock(&t->mu);
    int ready = csm_tel_ready(&t->pub, csm_monotonic_ms(), why, sizeof why);
    pthread_mutex_unlock(&t->mu);
    if (ready)
        csm_http_reply_printf(rep, 200, NULL, "ready\n");
    else
        csm_http_reply_printf(rep, 503, NULL, "not ready: %s\n", why);
}

static void name_figures(const csm_run *r, csm_tel_names *nm)
{
    nm->topics[0] = r->topics[0];
    nm->topics[1] = r->topics[1];
    nm->n_plugins = r->chain->n;
    nm->session = -1;
    for (size_t i = 0; i < r->chain->n; i++) {
        nm->plugins[i] = r->chain->links[i].plugin->name;
        if (!strcmp(nm->plugins[i], "session"))
            nm->session = (int)i;
    }
}

int csm_run_tel_start(csm_run *r, char *err, size_t errlen)
{
    r->tel_now.published_ms = csm_monotonic_ms();
    if (!r->cfg.http_port)
        return 0;
    struct csm_run_tel *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    pthread_mutex_init(&t->mu, NULL);
    name_figures(r, &t->names);
    csm_tel_snap_copy(&t->pub, &r->tel_now);
    t->routes[0] = (csm_http_route){"/metrics", on_metrics, t};
    t->routes[1] = (csm_http_route){"/healthz", on_healthz, t};
    t->routes[2] = (csm_http_route){"/readyz", on_readyz, t};
    char why[256];
    t->http =
        csm_http_start(r->cfg.http_bind, (int)r->cfg.http_port, t->routes, 3, why, sizeof why);
    if (!t->http) {
        snprintf(err, errlen, "http: %s", why);
        csm_tel_snap_free(&t->pub);
        pthread_mutex_destroy(&t->mu);
        free(t);
        return -1;
    }
    r->tel = t;
    csm_logf(CSM_LOG_INFO, "run", "telemetry on http://%s:%d/metrics (/healthz, /readyz)",
             r->cfg.http_bind, csm_http_port(t->http));
    return 0;
}

void csm_run_tel_stop(csm_run *r)
{
    struct csm_run_tel *t = r->tel;
    if (t) {
        /* Waits for the handlers: nothing reads t afterwards. */
        csm_http_stop(t->http);
        csm_tel_snap_free(&t->pub);
        pthread_mutex_destroy(&t->mu);
        free(t);
        r->tel = NULL;
    }
    csm_tel_snap_free(&r->tel_now);
}

/* Lag against the cached high watermark of the last fetch response (no
 * request to the broker); a partition fetched nothing yet has none. */
static void add_lag(csm_run *r, const csm_pslot *s, int t)
{
    int64_t lo, hi;
    if (rd_kafka_get_watermark_offsets(r->rk, r->topics[t], s->partition, &lo, &hi) || hi < 0)
        return;
    int64_t next = s->tp[t].next >= 0 ? s->tp[t].next : lo >= 0 ? lo : 0;
    csm_tel_snap *n = &r->tel_now;
    if (n->n_lag == n->cap_lag) {
        n->cap_lag = n->cap_lag ? n->cap_lag * 2 : 16;
        n->lag = realloc(n->lag, n->cap_lag * sizeof *n->lag);
        if (!n->lag)
            abort();
    }
    n->lag[n->n_lag++] = (csm_tel_lag){s->partition, t, hi > next ? hi - next : 0};
}

/* The gauges: what the partitions owned hold right now. */
static void take_gauges(csm_run *r)
{
    csm_tel_snap *n = &r->tel_now;
    memset(n->plugin_entries, 0, sizeof n->plugin_entries);
    n->timers_pending = 0;
    n->n_lag = 0;
    n->partitions_owned = r->ps.n;
    CSM_PSET_FOREACH(&r->ps, s)
    {
        for (int t = 0; t < 2; t++)
            if (s->tp[t].assigned)
                add_lag(r, s, t);
        if (!s->engine)
            continue;
        for (size_t i = 0; i < r->chain->n; i++)
            n->plugin_entries[i] += csm_engine_plugin_entries(s->engine, i);
        n->timers_pending += csm_engine_timers_pending(s->engine);
    }
}

static void publish(csm_run *r, int64_t now)
{
    csm_tel_snap *n = &r->tel_now;
    n->c.bad_keys = r->bad_keys;
    n->flight_ms =
        r->redis && csm_redis_flush_busy(r->redis) ? (int64_t)(r->flight.cut_us / 1e3) : 0;
    n->published_ms = now;
    r->tel_published_ms = now;
    if (r->rk)
        take_gauges(r);
    pthread_mutex_lock(&r->tel->mu);
    csm_tel_snap_copy(&r->tel->pub, n);
    pthread_mutex_unlock(&r->tel->mu);
}

static void redis_state(csm_run *r, int ok, int64_t now, const char *err)
{
    csm_tel_snap *n = &r->tel_now;
    n->redis_ok = ok;
    if (ok) {
        r->tel_redis_ok_ms = now;
    } else {
        n->c.redis_errors++;
        snprintf(n->redis_err, sizeof n->redis_err, "%s", err);
    }
}

/* An idle daemon sends nothing to Redis: a PING tells whether it is still
 * there. Not while a flush is in flight (it would wait for the flush) nor
 * while flushes fail (their retries tell). */
static void probe_redis(csm_run *r, int64_t now)
{
    if (!r->redis || r->sink_down || csm_redis_flush_busy(r->redis) ||
        now - r->tel_redis_ok_ms < CSM_TEL_PROBE_MS || now - r->tel_probe_ms < CSM_TEL_PROBE_MS)
        return;
    char err[256];
    int rc = csm_redis_store_ping(r->redis, err, sizeof err);
    /* A hung Redis holds the PING for redis.timeout: the loop waits less
     * often after a failure (a flush that lands says Redis is back). */
    r->tel_probe_ms = rc ? now + CSM_RUN_BACKOFF_MAX_MS - CSM_TEL_PROBE_MS : now;
    redis_state(r, rc == 0, csm_monotonic_ms(), err);
}

void csm_run_tel_tick(csm_run *r, int64_t now)
{
    if (!r->tel)
        return;
    probe_redis(r, now);
    if (now - r->tel_published_ms >= CSM_TEL_PUBLISH_MS)
        publish(r, now);
}

void csm_run_tel_phase(csm_run *r, csm_tel_phase phase)
{
    r->tel_now.phase = phase;
    if (phase == CSM_TEL_RUNNING) {
        /* Redis answered the connection just made. */
        r->tel_now.redis_ok = 1;
        r->tel_redis_ok_ms = csm_monotonic_ms();
    }
    if (r->tel)
        publish(r, csm_monotonic_ms());
}

void csm_run_tel_flight(csm_run *r, int rc, double seconds, const char *err)
{
    csm_tel_counters *c = &r->tel_now.c;
    csm_tel_flush_observe(c, seconds);
    c->flushes[rc == 0 ? CSM_FLUSH_OK : rc == 1 ? CSM_FLUSH_CONFLICT : CSM_FLUSH_FAILED]++;
    redis_state(r, rc >= 0, csm_monotonic_ms(), err);
    if (rc != 0)
        return;
    for (size_t k = 0; k < r->flight.n; k++)
        c->ckpt_bytes += r->flight.parts[k].batch->bytes.len;
}

void csm_run_tel_sink(csm_run *r, int rc, int64_t now, const char *err)
{
    csm_tel_snap *n = &r->tel_now;
    if (rc >= 0) {
        n->sink_down_ms = 0;
        return;
    }
    if (!n->sink_down_ms)
        n->sink_down_ms = now;
    snprintf(n->sink_err, sizeof n->sink_err, "%s", err);
}
