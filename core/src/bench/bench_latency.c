/* `csmetrics bench`, phase "latency": how long after it was produced an event's
 * counters are visible in Redis, at a sustained rate with live
 * timestamps. Counters are written in the same transaction as the
 * checkpoint offsets, so a poller thread notes when each partition's
 * checkpoint moves; the topics, read back, give each message's produce
 * time. An event's counters are written once event time has passed it by
 * pipeline.allowed_lateness (a later event of its partition number with
 * ts >= its ts + lateness was offered) and its offset is checkpointed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define POLL_MS 2

typedef struct point {
    double t_us;
    int64_t v;
} point;

typedef struct series {
    void *a;
    size_t n, cap, size;
} series;

static void *series_push(series *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        if (!(s->a = realloc(s->a, s->cap * s->size)))
            abort();
    }
    return (char *)s->a + s->n++ * s->size;
}

typedef struct msg {
    int64_t offset, ts_ms;
} msg;

typedef struct lat_ctx {
    csm_bench_ckpt ck;
    int partitions;
    volatile int stop;
    series *moves[2]; /* per partition: when the checkpoint moved (point) */
    series *msgs[2];  /* per partition: messages read back (msg) */
} lat_ctx;

static void *poller(void *arg)
{
    lat_ctx *c = arg;
    int64_t chat[c->partitions], order[c->partitions];
    while (!c->stop) {
        if (csm_bench_ckpt_read(&c->ck, chat, order) == 0) {
            double now = csm_bench_now_us();
            for (int p = 0; p < c->partitions; p++)
                for (int t = 0; t < 2; t++) {
                    series *s = &c->moves[t][p];
                    int64_t v = t ? order[p] : chat[p];
                    if (!s->n || ((point *)s->a)[s->n - 1].v != v)
                        *(point *)series_push(s) = (point){now, v};
                }
        }
        csm_bench_sleep_ms(POLL_MS);
    }
    return NULL;
}

static void on_msg(void *arg, int topic, int32_t partition, int64_t offset, int64_t ts_ms)
{
    lat_ctx *c = arg;
    *(msg *)series_push(&c->msgs[topic][partition]) = (msg){offset, ts_ms};
}

/* When the checkpoint first covered offset (moved past it); -1: never. */
static double covered_at(const series *moves, int64_t offset)
{
    const point *p = moves->a;
    size_t lo = 0, hi = moves->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p[mid].v > offset)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < moves->n ? p[lo].t_us : -1;
}

/* When a message of partition p with ts >= ts_ms was first covered, on
 * either topic: the event time that releases earlier events. */
static double released_at(const lat_ctx *c, int p, int64_t ts_ms)
{
    double best = -1;
    for (int t = 0; t < 2; t++) {
        const series *s = &c->msgs[t][p];
        const msg *m = s->a;
        size_t lo = 0, hi = s->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (m[mid].ts_ms >= ts_ms)
                hi = mid;
            else
                lo = mid + 1;
        }
        double at = lo < s->n ? covered_at(&c->moves[t][p], m[lo].offset) : -1;
        if (at >= 0 && (best < 0 || at < best))
            best = at;
    }
    return best;
}

static void record(csm_bench *b, lat_ctx *c)
{
    series ckpt = {.size = sizeof(double)}, vis = {.size = sizeof(double)};
    int64_t lateness = b->cfg.allowed_lateness_ms;
    for (int t = 0; t < 2; t++)
        for (int p = 0; p < c->partitions; p++) {
            const series *s = &c->msgs[t][p];
            for (size_t i = 0; i < s->n; i++) {
                const msg *m = (const msg *)s->a + i;
                double at = covered_at(&c->moves[t][p], m->offset);
                if (at < 0)
                    continue;
                *(double *)series_push(&ckpt) = (at - (double)m->ts_ms * 1e3) / 1e3;
                double rel = released_at(c, p, m->ts_ms + lateness);
                if (rel >= 0) /* not among the last, which nothing released */
                    *(double *)series_push(&vis) =
                        ((rel > at ? rel : at) - (double)m->ts_ms * 1e3) / 1e3;
            }
        }
    double p99 = csm_bench_percentile(vis.a, vis.n, 0.99);
    csm_bench_sample(b, "visible_latency_p99_ms", p99);
    csm_bench_sample(b, "visible_latency_p99_ms_over_lateness", p99 - (double)lateness);
    csm_bench_sample(b, "visible_latency_p50_ms", csm_bench_percentile(vis.a, vis.n, 0.5));
    csm_bench_sample(b, "checkpoint_latency_p99_ms", csm_bench_percentile(ckpt.a, ckpt.n, 0.99));
    csm_bench_sample(b, "latency_events_timed", (double)vis.n);
    csm_bench_say("latency: p99 %.0f ms visible (%.0f over the lateness), checkpoint p99 %.0f ms",
                  p99, p99 - (double)lateness, csm_bench_percentile(ckpt.a, ckpt.n, 0.99));
    free(ckpt.a);
    free(vis.a);
}

static void ctx_init(lat_ctx *c, int partitions)
{
    memset(c, 0, sizeof *c);
    c->partitions = partitions;
    for (int t = 0; t < 2; t++) {
        c->moves[t] = calloc((size_t)partitions, sizeof(series));
        c->msgs[t] = calloc((size_t)partitions, sizeof(series));
        if (!c->moves[t] || !c->msgs[t])
            abort();
        for (int p = 0; p < partitions; p++) {
            c->moves[t][p].size = sizeof(point);
            c->msgs[t][p].size = sizeof(msg);
        }
    }
}

static void ctx_free(lat_ctx *c)
{
    for (int t = 0; t < 2; t++) {
        for (int p = 0; p < c->partitions; p++) {
            free(c->moves[t][p].a);
            free(c->msgs[t][p].a);
        }
        free(c->moves[t]);
        free(c->msgs[t]);
    }
}

/* High watermarks. The mock trims what the readers (bench and daemon,
 * both following the head) have read long ago: low watermarks are not
 * checked here, the daemon's count of offered events is. */
static int head_offsets(csm_bench_kafka *k, csm_bench_offsets *hi, char *err, size_t errlen)
{
    csm_bench_offsets lo;
    csm_bench_offsets_init(&lo, k->topics.partitions);
    int rc = csm_bench_watermarks(&k->topics, &lo, hi, err, errlen);
    csm_bench_offsets_free(&lo);
    return rc;
}

/* After SIGTERM: the daemon offered every message of its topics, none
 * having been trimmed by the mock's retention before it got there. */
static int offered_all(csm_bench_daemon *d, const csm_bench_offsets *to, char *err, size_t errlen)
{
    long long offered = csm_bench_log_number(&d->ch, 0, "run: stopped: ");
    if (offered == csm_bench_offsets_sum(to))
        return 0;
    snprintf(err, errlen,
             "the daemon offered %lld of the %lld messages produced (see %s): the mock's "
             "retention (about 5 MB a partition) dropped the rest before it read them: it "
             "fell that far behind, it does not sustain --rate here; lower "
             "--rate or --latency-seconds, or raise --partitions",
             offered, (long long)csm_bench_offsets_sum(to), d->ch.log);
    return -1;
}

typedef struct reader {
    const csm_bench_topics *topics;
    csm_bench_offsets from, to;
    int to_known;
    lat_ctx *c;
    double rc;
    char err[256];
} reader;

static void *read_back(void *arg)
{
    reader *r = arg;
    r->rc = csm_bench_consume(r->topics, &r->from, &r->to, &r->to_known, on_msg, r->c, r->err,
                              sizeof r->err);
    return NULL;
}

/* The sustained stream, its checkpoints polled and its messages read as
 * they come (the mock keeps only the last few MB of each partition). */
static int timed_stream(csm_bench *b, csm_bench_kafka *k, csm_bench_daemon *d, lat_ctx *c,
                        char *err, size_t errlen)
{
    reader r = {.topics = &k->topics, .c = c};
    csm_bench_offsets_init(&r.from, k->topics.partitions);
    csm_bench_offsets_init(&r.to, k->topics.partitions);
    csm_bench_drain dr;
    pthread_t poll_th, read_th;
    int rc = -1;
    if (head_offsets(k, &r.from, err, errlen) ||
        csm_bench_ckpt_open(&c->ck, &b->redis, 0, b->cfg.prefix, d->group, c->partitions))
        goto out;
    pthread_create(&poll_th, NULL, poller, c);
    pthread_create(&read_th, NULL, read_back, &r);
    rc = csm_bench_produce(b, b->rate * b->latency_s, 4, 1, b->rate, err, errlen) ||
                 head_offsets(k, &r.to, err, errlen)
             ? -1
             : 0;
    __atomic_store_n(&r.to_known, 1, __ATOMIC_RELEASE);
    if (rc == 0)
        rc = csm_bench_daemon_drain(d, &r.to, 10, &dr, err, errlen);
    c->stop = 1;
    pthread_join(poll_th, NULL);
    pthread_join(read_th, NULL);
    csm_bench_ckpt_close(&c->ck);
    if (rc == 0 && r.rc < 0) {
        snprintf(err, errlen, "reading the latency stream back: %s", r.err);
        rc = -1;
    }
out:
    csm_bench_offsets_free(&r.from);
    csm_bench_offsets_free(&r.to);
    return rc;
}

static int latency_run(csm_bench *b, int partitions, char *err, size_t errlen)
{
    csm_bench_kafka k;
    csm_bench_daemon d;
    lat_ctx c;
    if (csm_bench_kafka_start(b, &k, partitions, err, errlen))
        return -1;
    ctx_init(&c, partitions);
    csm_bench_offsets hi;
    csm_bench_offsets_init(&hi, partitions);
    csm_bench_drain dr;
    int rc = -1;
    if (csm_bench_flushall(b) == 0 &&
        csm_bench_daemon_start(b, &d, k.bootstrap, partitions, err, errlen) == 0) {
        /* Joined and consuming before the clock starts. */
        rc = csm_bench_produce(b, 1000, 5, 1, 0, err, errlen) ||
                     csm_bench_kafka_hi(&k, &hi, err, errlen) ||
                     csm_bench_daemon_drain(&d, &hi, 10, &dr, err, errlen) ||
                     timed_stream(b, &k, &d, &c, err, errlen)
                 ? -1
                 : 0;
        csm_bench_daemon_stop(&d);
        /* Nothing was produced since: the ends of the topics. */
        if (rc == 0 && (head_offsets(&k, &hi, err, errlen) || offered_all(&d, &hi, err, errlen)))
            rc = -1;
    }
    if (rc == 0)
        record(b, &c);
    csm_bench_offsets_free(&hi);
    ctx_free(&c);
    csm_bench_kafka_stop(&k);
    return rc;
}

int csm_bench_latency(csm_bench *b, char *err, size_t errlen)
{
    csm_bench_say("latency: %ld events/s for %ld s", b->rate, b->latency_s);
    for (int r = 0; r < b->runs; r++)
        if (latency_run(b, b->partitions, err, errlen))
            return -1;
    return 0;
}
