/* `csmetrics bench`: the embedded broker and the daemon under test. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "mock_cluster.h"

#define STALL_US 60e6

int csm_bench_kafka_start(csm_bench *b, csm_bench_kafka *k, int partitions, char *err,
                          size_t errlen)
{
    memset(k, 0, sizeof *k);
    csm_mock_cluster *m = calloc(1, sizeof *m);
    if (!m)
        abort();
    if (csm_mock_cluster_start(m, &b->cfg, partitions, 1, NULL, err, errlen)) {
        free(m);
        return -1;
    }
    k->cluster = m;
    snprintf(k->bootstrap, sizeof k->bootstrap, "%s", csm_mock_cluster_bootstraps(m));
    k->topics =
        (csm_bench_topics){k->bootstrap, {b->cfg.chat_topic, b->cfg.order_topic}, partitions};
    csm_config_set_brokers(&b->cfg, k->bootstrap);
    return 0;
}

void csm_bench_kafka_stop(csm_bench_kafka *k)
{
    if (k->cluster) {
        csm_mock_cluster_stop(k->cluster);
        free(k->cluster);
    }
    k->cluster = NULL;
}

int csm_bench_kafka_hi(csm_bench_kafka *k, csm_bench_offsets *hi, char *err, size_t errlen)
{
    csm_bench_offsets lo;
    csm_bench_offsets_init(&lo, k->topics.partitions);
    int rc = csm_bench_watermarks(&k->topics, &lo, hi, err, errlen);
    for (int t = 0; t < 2 && !rc; t++)
        for (int p = 0; p < lo.n && !rc; p++)
            if (lo.v[t][p] > 0) {
                snprintf(err, errlen,
                         "%s [%d]: the mock broker's retention (about 5 MB a partition) dropped "
                         "the first %lld messages; use fewer --events or more --partitions",
                         k->topics.topic[t], p, (long long)lo.v[t][p]);
                rc = -1;
            }
    csm_bench_offsets_free(&lo);
    return rc;
}

/* Everything at its default but where to connect, the debug level that
 * logs each flush's duration, and --session-timeout (6 s, the least a
 * Kafka broker allows by default): the mock coordinator keeps a member
 * that was killed -9 for session.timeout.ms (librdkafka's default: 45 s)
 * before it lets a restarted one in, which would be all kill -9 measures. */
static int write_config(const csm_bench *b, const csm_bench_daemon *d, const char *bootstrap,
                        char *err, size_t errlen)
{
    FILE *f = fopen(d->cfg_path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", d->cfg_path, strerror(errno));
        return -1;
    }
    fprintf(f,
            "kafka:\n  brokers: \"%s\"\n  group_id: %s\n  chat_topic: \"%s\"\n"
            "  properties:\n    session.timeout.ms: \"%d\"\n    heartbeat.interval.ms: \"%d\"\n"
            "  order_topic: \"%s\"\n  deadletter_topic: \"%s\"\n"
            "redis:\n  host: 127.0.0.1\n  port: %d\n  prefix: %s\n"
            "schema_dir: \"%s\"\nlog:\n  level: debug\n",
            bootstrap, d->group, b->cfg.chat_topic, (int)b->session_timeout_ms,
            (int)b->session_timeout_ms / 6, b->cfg.order_topic, b->cfg.deadletter_topic,
            b->redis.port, b->cfg.prefix, b->cfg.schema_dir);
    if (b->cfg.plugin_path && *b->cfg.plugin_path)
        fprintf(f, "plugin_path: \"%s\"\n", b->cfg.plugin_path);
    return fclose(f) ? -1 : 0;
}

int csm_bench_daemon_start(csm_bench *b, csm_bench_daemon *d, const char *bootstrap, int partitions,
                           char *err, size_t errlen)
{
    return csm_bench_daemon_config(b, d, bootstrap, partitions, err, errlen) ||
                   csm_bench_daemon_restart(d, err, errlen)
               ? -1
               : 0;
}

int csm_bench_daemon_config(csm_bench *b, csm_bench_daemon *d, const char *bootstrap,
                            int partitions, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    int n = ++b->daemons;
    d->partitions = partitions;
    snprintf(d->group, sizeof d->group, "bench%d", n);
    snprintf(d->cfg_path, sizeof d->cfg_path, "%s/run%d.yaml", b->dir, n);
    snprintf(d->ch.log, sizeof d->ch.log, "%s/run%d.log", b->dir, n);
    if (write_config(b, d, bootstrap, err, errlen) ||
        csm_bench_ckpt_open(&d->ck, &b->redis, 1, b->cfg.prefix, d->group, partitions)) {
        if (!*err)
            snprintf(err, errlen, "cannot connect to the bench's redis-server");
        return -1;
    }
    return 0;
}

int csm_bench_daemon_restart(csm_bench_daemon *d, char *err, size_t errlen)
{
    char log[sizeof d->ch.log], self[4096], out[600];
    memcpy(log, d->ch.log, sizeof log);
    if (!*d->callgrind_out) {
        const char *argv[] = {"csmetrics", "run", "-c", d->cfg_path, NULL};
        return csm_bench_spawn(&d->ch, argv, log, err, errlen);
    }
    snprintf(out, sizeof out, "--callgrind-out-file=%s", d->callgrind_out);
    const char *argv[] = {"valgrind", "--tool=callgrind", out, self, "run",
                          "-c",       d->cfg_path,        NULL};
    return csm_bench_self_exe(self, sizeof self, err, errlen) ||
                   csm_bench_spawn(&d->ch, argv, log, err, errlen)
               ? -1
               : 0;
}

static int64_t covered(csm_bench_daemon *d, const csm_bench_offsets *hi, int *all)
{
    int64_t chat[d->partitions], order[d->partitions], sum = 0;
    if (csm_bench_ckpt_read(&d->ck, chat, order))
        return -1;
    *all = 1;
    for (int p = 0; p < d->partitions; p++) {
        sum += chat[p] + order[p];
        if (hi && (chat[p] < hi->v[0][p] || order[p] < hi->v[1][p]))
            *all = 0;
    }
    return sum;
}

int64_t csm_bench_daemon_covered(csm_bench_daemon *d)
{
    int all;
    return covered(d, NULL, &all);
}

int csm_bench_daemon_drain(csm_bench_daemon *d, const csm_bench_offsets *hi, int poll_ms,
                           csm_bench_drain *out, char *err, size_t errlen)
{
    int all = 0;
    memset(out, 0, sizeof *out);
    out->t_start = csm_bench_now_us();
    out->start_sum = out->first_sum = out->end_sum = covered(d, hi, &all);
    double moved_at = out->t_start;
    while (!all) {
        csm_bench_sleep_ms(poll_ms);
        double now = csm_bench_now_us();
        int64_t sum = covered(d, hi, &all);
        if (sum < 0) {
            snprintf(err, errlen, "redis-server stopped answering");
            return -1;
        }
        if (sum != out->end_sum) {
            moved_at = now;
            if (!out->t_first) {
                out->t_first = now;
                out->first_sum = sum;
            }
        }
        out->end_sum = sum;
        out->t_end = now;
        if (!all && (now - moved_at > STALL_US || !csm_bench_alive(&d->ch))) {
            snprintf(err, errlen,
                     "the daemon's checkpoints stopped at %lld of %lld events (%s; see %s)",
                     (long long)sum, (long long)csm_bench_offsets_sum(hi),
                     d->ch.pid ? "no progress for 60 s" : "it exited", d->ch.log);
            return -1;
        }
    }
    return 0;
}

double csm_bench_drain_rate(const csm_bench_drain *dr)
{
    /* All in one flush: only the whole drain's time is known. */
    if (dr->end_sum > dr->first_sum && dr->t_end > dr->t_first)
        return (double)(dr->end_sum - dr->first_sum) / ((dr->t_end - dr->t_first) / 1e6);
    return dr->t_end > dr->t_start
               ? (double)(dr->end_sum - dr->start_sum) / ((dr->t_end - dr->t_start) / 1e6)
               : 0;
}

void csm_bench_daemon_stop(csm_bench_daemon *d)
{
    csm_bench_stop(&d->ch, 10000);
    csm_bench_ckpt_close(&d->ck);
}
