/* `csmetrics bench`, phase "open": N customers open a session each and stay
 * open on 32 partitions; then what that state costs — new events/s, flush
 * durations, Redis input while idle, RSS per session, kill -9 recovery. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_traffic.h"
#include "keys.h"
#include "time_bounds.h"

/* Opens produced ahead of the daemon's checkpoints at most (per
 * partition): far below the mock's retention. */
#define OPEN_CHUNK 20000
#define OPEN_AHEAD_PER_PARTITION 20000
/* After the last event, the partitions' event time follows the wall clock
 * once they have been quiet for idle_advance; the idle window starts a
 * little after that. */
#define IDLE_SETTLE_MS 2000
/* The open sessions' customers are spread over this many shops. */
#define OPEN_SHOPS 1000

typedef struct open_ctx {
    csm_bench *b;
    csm_bench_kafka k;
    csm_bench_daemon d;
    csm_bench_offsets hi;
    long n;
} open_ctx;

static void sample(open_ctx *c, const char *figure, double v)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%ld", figure, c->n);
    csm_bench_sample(c->b, name, v);
}

/* Produces everything queued and waits for the daemon to cover it. */
static int settle(open_ctx *c, csm_bench_traffic *t, char *err, size_t errlen)
{
    if (t && csm_bench_traffic_finish(t)) {
        snprintf(err, errlen, "deliveries to the embedded broker failed");
        return -1;
    }
    if (csm_bench_kafka_hi(&c->k, &c->hi, err, errlen))
        return -1;
    csm_bench_drain dr;
    return csm_bench_daemon_drain(&c->d, &c->hi, 10, &dr, err, errlen);
}

/* Keeps the producer at most OPEN_AHEAD events a partition ahead. */
static int wait_ahead(open_ctx *c, long sent, char *err, size_t errlen)
{
    long ahead = (long)OPEN_AHEAD_PER_PARTITION * c->b->open_partitions;
    double since = csm_bench_now_us();
    for (int64_t done; (done = csm_bench_daemon_covered(&c->d)) >= 0 && sent - done > ahead;) {
        if (csm_bench_now_us() - since > 120e6 || !csm_bench_alive(&c->d.ch)) {
            snprintf(err, errlen, "the daemon fell behind the opens (see %s)", c->d.ch.log);
            return -1;
        }
        csm_bench_sleep_ms(20);
    }
    return 0;
}

/* The opens wait in the reorder buffer until idle advance releases them,
 * and applying a million of them writes their entries in a flush of
 * several seconds, which can start after the fixed settle time. The idle
 * window starts once every partition's checkpoint `clock` (the applied
 * event time) has passed the last open, i.e. all of them are applied and
 * written; after SETTLE_MAX_S seconds it starts anyway (a daemon that never
 * gets there is then measured as it is). */
#define SETTLE_MAX_S 60

static int64_t ckpt_clock(open_ctx *c, int partition)
{
    char key[256];
    if (csm_key_checkpoint(key, sizeof key, c->b->cfg.prefix, c->d.group, partition) < 0)
        return INT64_MIN;
    const char *argv[3] = {"HGET", key, "clock"};
    redisReply *r = csm_bench_redis_cmd(&c->b->redis, 3, argv);
    int64_t v = r && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : INT64_MIN;
    if (r)
        freeReplyObject(r);
    return v;
}

static void wait_applied(open_ctx *c, int64_t last_open_ms)
{
    for (int i = 0; i < SETTLE_MAX_S * 10; i++) {
        int p = 0;
        while (p < c->b->open_partitions && ckpt_clock(c, p) > last_open_ms)
            p++;
        if (p == c->b->open_partitions)
            return;
        csm_bench_sleep_ms(100);
    }
}

/* All N open, after a warm-up whose RSS and size *warm_out receives. The
 * RSS is read once the warm-up is applied (not only buffered), so that
 * what every partition allocates at its first applied event (delta
 * tables, timer and dedup arrays, checkpoint batches) is not counted as
 * the cost of the sessions opened after it. */
static int open_sessions(open_ctx *c, long *rss_before, long *warm_out, char *err, size_t errlen)
{
    csm_bench_traffic t;
    if (csm_bench_traffic_open(&t, &c->b->cfg, err, errlen))
        return -1;
    long warm = c->n < 10L * c->b->open_partitions ? c->n / 2 : 10L * c->b->open_partitions;
    int rc = csm_bench_traffic_open_sessions(&t, 0, warm, OPEN_SHOPS) || settle(c, &t, err, errlen);
    wait_applied(c, csm_wall_clock_ms());
    *rss_before = csm_bench_rss(c->d.ch.pid);
    *warm_out = warm;
    for (long i = warm; rc == 0 && i < c->n; i += OPEN_CHUNK) {
        long end = i + OPEN_CHUNK < c->n ? i + OPEN_CHUNK : c->n;
        rc = csm_bench_traffic_open_sessions(&t, i, end, OPEN_SHOPS) ||
             wait_ahead(c, end, err, errlen);
    }
    if (rc == 0)
        rc = settle(c, &t, err, errlen);
    csm_bench_traffic_close(&t);
    return rc;
}

static int idle_input(open_ctx *c)
{
    csm_bench *b = c->b;
    int64_t last_open_ms = csm_wall_clock_ms();
    csm_bench_sleep_ms(b->cfg.allowed_lateness_ms + b->cfg.idle_advance_ms + IDLE_SETTLE_MS);
    wait_applied(c, last_open_ms);
    csm_bench_redis_snap s0, s1;
    if (csm_bench_redis_snap_take(&b->redis, &s0))
        return -1;
    double t0 = csm_bench_now_us();
    csm_bench_sleep_ms(b->idle_s * 1000);
    if (csm_bench_redis_snap_take(&b->redis, &s1))
        return -1;
    double secs = (csm_bench_now_us() - t0) / 1e6;
    sample(c, "open_idle_redis_input_bytes_per_s",
           (double)(s1.net_input_bytes - s0.net_input_bytes) / secs);
    return 0;
}

/* How long (in 100 ms steps) the stream's flush lines are waited for. */
#define FLUSH_LOG_TRIES 20

/* New traffic produced while the daemon is stopped (SIGSTOP), then timed
 * from its first checkpoint to its last. */
static int stream(open_ctx *c, double *rate, char *err, size_t errlen)
{
    kill(c->d.ch.pid, SIGSTOP);
    int rc = csm_bench_produce(c->b, c->b->stream_events, 2, 1, 0, err, errlen) ||
                     csm_bench_kafka_hi(&c->k, &c->hi, err, errlen)
                 ? -1
                 : 0;
    long from = csm_bench_log_size(&c->d.ch);
    kill(c->d.ch.pid, SIGCONT);
    csm_bench_drain dr;
    if (rc || csm_bench_daemon_drain(&c->d, &c->hi, 10, &dr, err, errlen))
        return -1;
    *rate = csm_bench_drain_rate(&dr);
    sample(c, "open_new_events_per_s", *rate);
    size_t cap = 100000, n = 0;
    double *ms = malloc(cap * sizeof *ms);
    if (!ms)
        abort();
    /* The daemon logs a flush when it takes the outcome, which can come a
     * few milliseconds after the checkpoint the drain saw in Redis. */
    for (int tries = 0; tries < FLUSH_LOG_TRIES; tries++) {
        csm_bench_sleep_ms(100);
        n = csm_bench_flush_times(&c->d.ch, from, csm_bench_log_size(&c->d.ch), ms, cap);
        if (n)
            break;
    }
    sample(c, "open_flush_ms_p50", csm_bench_percentile(ms, n, 0.5));
    sample(c, "open_flush_ms_p99", csm_bench_percentile(ms, n, 0.99));
    sample(c, "open_flush_ms_max", csm_bench_percentile(ms, n, 1.0));
    sample(c, "open_flushes", (double)n);
    csm_bench_say("open %ld: %.0f new events/s, %zu flushes, p99 %.1f ms", c->n, *rate, n,
                  csm_bench_percentile(ms, n, 0.99));
    free(ms);
    return 0;
}

/* kill -9, restart at once, new events: until they are checkpointed.
 * The restarted daemon's log splits it: its first partition line comes
 * once the group let it in (and it loaded that partition), "assigned"
 * once every checkpoint is loaded. */
static int kill9(open_ctx *c, char *err, size_t errlen)
{
    double t0 = csm_bench_now_us();
    csm_bench_kill9(&c->d.ch);
    long from = csm_bench_log_size(&c->d.ch);
    if (csm_bench_daemon_restart(&c->d, err, errlen) ||
        csm_bench_produce(c->b, 2000, 3, 1, 0, err, errlen) || settle(c, NULL, err, errlen))
        return -1;
    double done = csm_bench_now_us();
    sample(c, "open_kill9_recovery_s", (done - t0) / 1e6);
    double joined = csm_bench_log_time(&c->d.ch, from, "run: partition "),
           loaded = csm_bench_log_time(&c->d.ch, from, "run: assigned ");
    if (joined > 0 && loaded > 0) {
        sample(c, "open_kill9_joined_s", (joined - t0) / 1e6);
        sample(c, "open_kill9_after_join_s", (done - joined) / 1e6);
        sample(c, "open_kill9_loaded_s", (loaded - t0) / 1e6);
    }
    return 0;
}

static int measure(open_ctx *c, double *rate, char *err, size_t errlen)
{
    long rss0 = 0, warm = 0;
    if (open_sessions(c, &rss0, &warm, err, errlen))
        return -1;
    if (idle_input(c)) {
        snprintf(err, errlen, "redis-server stopped answering");
        return -1;
    }
    sample(c, "open_rss_bytes_per_session",
           (double)(csm_bench_rss(c->d.ch.pid) - rss0) / (double)(c->n - warm));
    return stream(c, rate, err, errlen) || kill9(c, err, errlen) ? -1 : 0;
}

static int open_one(csm_bench *b, long n, double *rate, char *err, size_t errlen)
{
    open_ctx c = {.b = b, .n = n};
    if (csm_bench_kafka_start(b, &c.k, b->open_partitions, err, errlen))
        return -1;
    csm_bench_offsets_init(&c.hi, b->open_partitions);
    int rc = -1;
    if (csm_bench_flushall(b) == 0 &&
        csm_bench_daemon_start(b, &c.d, c.k.bootstrap, b->open_partitions, err, errlen) == 0) {
        rc = measure(&c, rate, err, errlen);
        csm_bench_daemon_stop(&c.d);
    }
    csm_bench_offsets_free(&c.hi);
    csm_bench_kafka_stop(&c.k);
    return rc;
}

/* Each size's rate is compared with the first size's of the same run. */
int csm_bench_open_state(csm_bench *b, char *err, size_t errlen)
{
    for (int r = 0; r < b->runs; r++) {
        double rates[CSM_BENCH_MAX_OPEN];
        for (int k = 0; k < b->n_open; k++)
            if (open_one(b, b->open[k], &rates[k], err, errlen))
                return -1;
        for (int k = 0; k < b->n_open; k++) {
            char name[128];
            snprintf(name, sizeof name, "open_rate_ratio.%ld", b->open[k]);
            csm_bench_sample(b, name, rates[k] / rates[0]);
        }
    }
    return 0;
}
