/* `csmetrics bench`, phase "throughput": the bare-consumer ceiling and the
 * daemon to its last checkpoint, on the same realistic traffic, with
 * what it cost the daemon and Redis per event. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "bench_traffic.h"

/* Many shops, agents and customers: sessions enough for the event count
 * (about nine events a session), spread over one day. */
void csm_bench_traffic_opts(const csm_bench *b, csm_gen_opts *o, long events, long seed)
{
    *o = (csm_gen_opts){.shops = b->shops,
                        .agents = 8,
                        .customers = 2000,
                        .days = 1,
                        .hours = 16,
                        .sessions = events / 8 + 1,
                        .seed = seed,
                        .limit = events};
    o->t0 = csm_gen_default_start(o->days);
}

int csm_bench_produce(csm_bench *b, long events, long seed, int live, long rate, char *err,
                      size_t errlen)
{
    csm_bench_traffic t;
    if (csm_bench_traffic_open(&t, &b->cfg, err, errlen))
        return -1;
    csm_gen_opts o;
    csm_bench_traffic_opts(b, &o, events, seed);
    o.rate = rate;
    int rc = csm_bench_traffic_gen(&t, &o, live) || csm_bench_traffic_finish(&t) ? -1 : 0;
    if (rc)
        snprintf(err, errlen, "producing the generated traffic failed");
    csm_bench_traffic_close(&t);
    return rc;
}

/* Commands per event, in total and by command, into details. */
static void record_commands(csm_bench *b, const csm_bench_cmds *d, double events)
{
    csm_bench_sample(b, "redis_commands_per_event", (double)csm_bench_cmds_total(d) / events);
    for (size_t i = 0; i < d->n; i++) {
        char name[96];
        snprintf(name, sizeof name, "redis_commands_per_event.%s", d->c[i].name);
        csm_bench_sample(b, name, (double)d->c[i].calls / events);
    }
}

static void record_run(csm_bench *b, const csm_bench_drain *dr, double daemon_cpu,
                       const csm_bench_redis_snap *s0, const csm_bench_redis_snap *s1,
                       double ceiling)
{
    double events = (double)(dr->end_sum - dr->start_sum), rate = csm_bench_drain_rate(dr);
    csm_bench_sample(b, "ceiling_events_per_s", ceiling);
    csm_bench_sample(b, "run_events_per_s", rate);
    csm_bench_sample(b, "throughput_ratio", rate / ceiling);
    csm_bench_sample(b, "daemon_cpu_us_per_event", daemon_cpu * 1e6 / events);
    csm_bench_sample(b, "redis_cpu_us_per_event", (s1->cpu_s - s0->cpu_s) * 1e6 / events);
    csm_bench_sample(b, "redis_bytes_per_event",
                     (double)(s1->net_input_bytes - s0->net_input_bytes) / events);
    csm_bench_cmds d;
    csm_bench_cmds_delta(&s0->cmds, &s1->cmds, &d);
    record_commands(b, &d, events);
}

/* One run of c: a fresh group from offset 0 to the end of the topics. */
static int daemon_run(csm_bench *b, csm_bench_kafka *k, const csm_bench_offsets *hi, double ceiling,
                      char *err, size_t errlen)
{
    csm_bench_redis_snap s0, s1;
    csm_bench_daemon d;
    if (csm_bench_redis_snap_take(&b->redis, &s0) ||
        csm_bench_daemon_start(b, &d, k->bootstrap, k->topics.partitions, err, errlen))
        return -1;
    csm_bench_drain dr;
    int rc = csm_bench_daemon_drain(&d, hi, 10, &dr, err, errlen);
    double cpu = csm_bench_proc_cpu(d.ch.pid);
    if (rc == 0 && csm_bench_redis_snap_take(&b->redis, &s1) == 0)
        record_run(b, &dr, cpu, &s0, &s1, ceiling);
    csm_bench_daemon_stop(&d);
    csm_bench_say("run: %.0f events/s (ceiling %.0f), %.2f us CPU/event", csm_bench_drain_rate(&dr),
                  ceiling, cpu * 1e6 / (double)(dr.end_sum ? dr.end_sum : 1));
    return rc;
}

int csm_bench_flushall(csm_bench *b)
{
    const char *argv[] = {"FLUSHALL"};
    redisReply *r = csm_bench_redis_cmd(&b->redis, 1, argv);
    if (!r)
        return -1;
    freeReplyObject(r);
    return 0;
}

int csm_bench_throughput(csm_bench *b, char *err, size_t errlen)
{
    csm_bench_kafka k;
    if (csm_bench_kafka_start(b, &k, b->partitions, err, errlen))
        return -1;
    csm_bench_offsets from, hi;
    csm_bench_offsets_init(&from, b->partitions);
    csm_bench_offsets_init(&hi, b->partitions);
    csm_bench_say("producing %ld events to %d partitions", b->events, b->partitions);
    int rc = csm_bench_produce(b, b->events, 1, 0, 0, err, errlen) ||
                     csm_bench_kafka_hi(&k, &hi, err, errlen)
                 ? -1
                 : 0;
    for (int r = 0; r < b->runs && rc == 0; r++) {
        double ceiling = csm_bench_consume(&k.topics, &from, &hi, NULL, NULL, NULL, err, errlen);
        if (ceiling == 0)
            snprintf(err, errlen, "too few events to time the bare consumer: raise --events");
        rc = ceiling <= 0 || csm_bench_flushall(b) ? -1
                                                   : daemon_run(b, &k, &hi, ceiling, err, errlen);
    }
    if (rc == 0)
        csm_bench_sample(b, "events_produced", (double)csm_bench_offsets_sum(&hi));
    csm_bench_offsets_free(&from);
    csm_bench_offsets_free(&hi);
    csm_bench_kafka_stop(&k);
    return rc;
}
