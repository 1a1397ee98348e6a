/* `csmetrics bench` (cmd_bench.c): what its phases share — the options,
 * the Redis it started, the samples of every figure — and the phases
 * themselves (bench_*.c). */
#ifndef CSM_BENCH_H
#define CSM_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bench_kafka.h"
#include "bench_proc.h"
#include "bench_redis.h"
#include "config.h"
#include "gen.h"

#define CSM_BENCH_MAX_OPEN 8

typedef struct csm_bench {
    /* Options. */
    int partitions, runs, quick, callgrind;
    long events, rate, latency_s, stream_events, idle_s, cg_events;
    long shops;              /* of the generated traffic (8 agents, 2000 customers each) */
    long session_timeout_ms; /* the daemons' kafka.properties.session.timeout.ms */
    unsigned phases;         /* bit i: phase i of cmd_bench.c's list runs */
    long open[CSM_BENCH_MAX_OPEN];
    int n_open;
    int open_partitions;

    csm_config cfg; /* topics, schema_dir, plugin_path; the rest default */
    char dir[256];  /* logs, configs, Redis files */
    csm_bench_redis redis;
    json_t *samples; /* figure name -> array of numbers, one per run */
    json_t *details; /* figures the table does not target, and notes */
    int daemons;     /* started so far: a group id each */
} csm_bench;

/* Appends v to figure name's samples. */
void csm_bench_sample(csm_bench *b, const char *name, double v);
/* A note in details (name -> string), e.g. why a figure is null. */
void csm_bench_note(csm_bench *b, const char *name, const char *text);
/* progress on stderr */
void csm_bench_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A `csmetrics run` child with a generated configuration. */
typedef struct csm_bench_daemon {
    csm_bench_child ch;
    char cfg_path[512], group[64];
    char callgrind_out[512]; /* set: runs under valgrind --tool=callgrind */
    csm_bench_ckpt ck;
    int partitions;
} csm_bench_daemon;

/* Where a drain started and how it went (wall µs, events covered by the
 * checkpoints). */
typedef struct csm_bench_drain {
    double t_start, t_first, t_end;
    int64_t start_sum, first_sum, end_sum;
} csm_bench_drain;

int csm_bench_daemon_start(csm_bench *b, csm_bench_daemon *d, const char *bootstrap, int partitions,
                           char *err, size_t errlen);
/* Its configuration file only (replay uses it too), with a fresh group;
 * then csm_bench_daemon_restart starts it. */
int csm_bench_daemon_config(csm_bench *b, csm_bench_daemon *d, const char *bootstrap,
                            int partitions, char *err, size_t errlen);
/* Runs it again (same group and configuration) after a kill. */
int csm_bench_daemon_restart(csm_bench_daemon *d, char *err, size_t errlen);
/* Polls the checkpoints every poll_ms until they reach hi. 0, or -1 +
 * err when they stop moving for 60 s or the daemon exits. */
int csm_bench_daemon_drain(csm_bench_daemon *d, const csm_bench_offsets *hi, int poll_ms,
                           csm_bench_drain *out, char *err, size_t errlen);
/* Sum of the checkpoint offsets now; -1 when Redis did not answer. */
int64_t csm_bench_daemon_covered(csm_bench_daemon *d);
void csm_bench_daemon_stop(csm_bench_daemon *d);
/* Events/s between the first checkpoint that moved and the last one. */
double csm_bench_drain_rate(const csm_bench_drain *dr);

/* A mock cluster with the topics, on @p partitions, and a producer. */
typedef struct csm_bench_kafka {
    void *cluster; /* csm_mock_cluster */
    char bootstrap[256];
    csm_bench_topics topics;
} csm_bench_kafka;
/* Also points b->cfg's brokers at it, for producers. */
int csm_bench_kafka_start(csm_bench *b, csm_bench_kafka *k, int partitions, char *err,
                          size_t errlen);
void csm_bench_kafka_stop(csm_bench_kafka *k);
/* High watermarks now; checks nothing was trimmed by the mock's
 * retention (low watermarks 0). 0 or -1 + err. */
int csm_bench_kafka_hi(csm_bench_kafka *k, csm_bench_offsets *hi, char *err, size_t errlen);

/* The generator's options for the bench's traffic: many shops, agents
 * and customers, `events` events of one day. */
void csm_bench_traffic_opts(const csm_bench *b, csm_gen_opts *o, long events, long seed);
/* Traffic of `csmetrics gen` (seeded) to b->cfg's brokers; with live,
 * timestamped now; rate: events/s (0: unpaced). 0 or -1 + err. */
int csm_bench_produce(csm_bench *b, long events, long seed, int live, long rate, char *err,
                      size_t errlen);
/* Empties the bench's Redis between runs. 0 or -1. */
int csm_bench_flushall(csm_bench *b);

/* The phases; each records its samples. 0 or -1 + err. */
int csm_bench_throughput(csm_bench *b, char *err, size_t errlen);   /* b, c */
int csm_bench_open_state(csm_bench *b, char *err, size_t errlen);   /* d */
int csm_bench_latency(csm_bench *b, char *err, size_t errlen);      /* e */
int csm_bench_instructions(csm_bench *b, char *err, size_t errlen); /* f */

/* Percentile q (0..1) of v[0..n-1] (sorts v); NAN when n is 0. */
double csm_bench_percentile(double *v, size_t n, double q);

#endif
