/* `csmetrics bench`: what the bench reads of the topics directly — their
 * watermarks, and everything in them with a plain librdkafka batch
 * consumer (the ceiling the daemon is compared with; also how the
 * latency figure learns each message's produce time). */
#ifndef CSM_BENCH_KAFKA_H
#define CSM_BENCH_KAFKA_H

#include <stddef.h>
#include <stdint.h>

/* Per topic (0 chat, 1 order) and partition. */
typedef struct csm_bench_offsets {
    int n;
    int64_t *v[2];
} csm_bench_offsets;

void csm_bench_offsets_init(csm_bench_offsets *o, int n);
void csm_bench_offsets_free(csm_bench_offsets *o);
int64_t csm_bench_offsets_sum(const csm_bench_offsets *o);

typedef struct csm_bench_topics {
    const char *bootstrap;
    const char *topic[2];
    int partitions;
} csm_bench_topics;

/* Low and high watermarks of every partition. 0 or -1 + err. */
int csm_bench_watermarks(const csm_bench_topics *t, csm_bench_offsets *lo, csm_bench_offsets *hi,
                         char *err, size_t errlen);

/* Called for each message read: topic index, partition, offset, its
 * timestamp (ms, the producer's create time). */
typedef void (*csm_bench_msg_fn)(void *arg, int topic, int32_t partition, int64_t offset,
                                 int64_t ts_ms);

/* Reads [from, to) of every partition with rd_kafka_consume_batch_queue
 * and fetch.max.bytes=1048576. Returns messages/s from the first
 * message's arrival to the last message's, or -1 + err.
 * With @p to_known, `to` is filled in by another thread while this reads
 * (the log follows a producer, so the mock's retention never catches up
 * with the reader): until *to_known is set, everything read counts. */
double csm_bench_consume(const csm_bench_topics *t, const csm_bench_offsets *from,
                         const csm_bench_offsets *to, const int *to_known, csm_bench_msg_fn fn,
                         void *arg, char *err, size_t errlen);

#endif
