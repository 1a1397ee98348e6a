#include "bench_kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "bench_proc.h"

#define BATCH 10000
#define READ_TIMEOUT_US 30e6

void csm_bench_offsets_init(csm_bench_offsets *o, int n)
{
    o->n = n;
    for (int t = 0; t < 2; t++)
        if (!(o->v[t] = calloc((size_t)n, sizeof *o->v[t])))
            abort();
}

void csm_bench_offsets_free(csm_bench_offsets *o)
{
    for (int t = 0; t < 2; t++)
        free(o->v[t]);
    memset(o, 0, sizeof *o);
}

int64_t csm_bench_offsets_sum(const csm_bench_offsets *o)
{
    int64_t s = 0;
    for (int t = 0; t < 2; t++)
        for (int p = 0; p < o->n; p++)
            s += o->v[t][p];
    return s;
}

static rd_kafka_t *consumer_new(const char *bootstrap, char *err, size_t errlen)
{
    static const char *const props[] = {"group.id",
                                        "csmetrics-bench-reader",
                                        "enable.auto.commit",
                                        "false",
                                        "fetch.max.bytes",
                                        "1048576",
                                        "log_level",
                                        "3",
                                        NULL};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, errlen) != RD_KAFKA_CONF_OK)
        goto fail;
    for (int i = 0; props[i]; i += 2)
        if (rd_kafka_conf_set(conf, props[i], props[i + 1], err, errlen) != RD_KAFKA_CONF_OK)
            goto fail;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
    if (rk)
        return rk;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int csm_bench_watermarks(const csm_bench_topics *t, csm_bench_offsets *lo, csm_bench_offsets *hi,
                         char *err, size_t errlen)
{
    rd_kafka_t *rk = consumer_new(t->bootstrap, err, errlen);
    if (!rk)
        return -1;
    int rc = 0;
    for (int s = 0; s < 2 && !rc; s++)
        for (int p = 0; p < t->partitions && !rc; p++) {
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
                rk, t->topic[s], p, &lo->v[s][p], &hi->v[s][p], 10000);
            if (e) {
                snprintf(err, errlen, "watermarks of %s [%d]: %s", t->topic[s], p,
                         rd_kafka_err2str(e));
                rc = -1;
            }
        }
    rd_kafka_destroy(rk);
    return rc;
}

/* Assigns every partition from its `from` offset. */
static void assign_from(rd_kafka_t *rk, const csm_bench_topics *t, const csm_bench_offsets *from)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2 * t->partitions);
    for (int s = 0; s < 2; s++)
        for (int p = 0; p < t->partitions; p++)
            rd_kafka_topic_partition_list_add(l, t->topic[s], p)->offset = from->v[s][p];
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Messages in [from, to); INT64_MAX while `to` is not known yet. */
static int64_t wanted(const csm_bench_offsets *from, const csm_bench_offsets *to,
                      const int *to_known)
{
    if (to_known && !__atomic_load_n(to_known, __ATOMIC_ACQUIRE))
        return INT64_MAX;
    int64_t want = 0;
    for (int s = 0; s < 2; s++)
        for (int p = 0; p < from->n; p++)
            want += to->v[s][p] - from->v[s][p];
    return want;
}

static int topic_index(const csm_bench_topics *t, const rd_kafka_message_t *m)
{
    return strcmp(rd_kafka_topic_name(m->rkt), t->topic[0]) ? 1 : 0;
}

double csm_bench_consume(const csm_bench_topics *t, const csm_bench_offsets *from,
                         const csm_bench_offsets *to, const int *to_known, csm_bench_msg_fn fn,
                         void *arg, char *err, size_t errlen)
{
    rd_kafka_t *rk = consumer_new(t->bootstrap, err, errlen);
    if (!rk)
        return -1;
    assign_from(rk, t, from);
    int64_t want = wanted(from, to, to_known), got = 0, first_batch = 0;
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t **msgs = malloc(BATCH * sizeof *msgs);
    if (!msgs)
        abort();
    double t_first = 0, t_last = 0, idle_since = csm_bench_now_us();
    while (got < want && csm_bench_now_us() - idle_since < READ_TIMEOUT_US) {
        /* One message at first: the clock starts when the first arrives,
         * not after a batch that filled while fetching went on. */
        ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs, t_first ? BATCH : 1);
        int known = want != INT64_MAX;
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = msgs[i];
            int s = topic_index(t, m);
            if (!m->err && (!known || m->offset < to->v[s][m->partition])) {
                got++;
                if (fn)
                    fn(arg, s, m->partition, m->offset, rd_kafka_message_timestamp(m, NULL));
            }
            rd_kafka_message_destroy(m);
        }
        if (!known) {
            want = wanted(from, to, to_known);
            idle_since = csm_bench_now_us();
        }
        if (n > 0) {
            t_last = idle_since = csm_bench_now_us();
            if (!t_first) {
                t_first = t_last;
                first_batch = got;
            }
        }
    }
    free(msgs);
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (got < want) {
        snprintf(err, errlen, "read %lld of %lld messages, then nothing for 30 s", (long long)got,
                 (long long)want);
        return -1;
    }
    return t_last > t_first ? (double)(got - first_batch) / ((t_last - t_first) / 1e6) : 0;
}
