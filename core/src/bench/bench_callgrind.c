/* `csmetrics bench --callgrind`, phase "instructions": instructions per event of run
 * and replay under valgrind's callgrind (repeatable where CPU time is
 * not). Each is run on two event counts and the difference taken, so
 * start-up (plugins, schemas, the group join) does not count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "gen.h"

/* Under callgrind everything is ~50x slower: SIGTERM's final flush too. */
#define STOP_MS 120000

/* "summary: N" (or "totals: N") of a callgrind output file; -1. */
static double callgrind_total(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    double total = -1;
    unsigned long long v;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "summary: %llu", &v) == 1 || sscanf(line, "totals: %llu", &v) == 1)
            total = (double)v;
    fclose(f);
    return total;
}

static int valgrind_found(void)
{
    const char *path = getenv("PATH");
    char dir[4096];
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(dir, sizeof dir, "%.*s/valgrind", (int)n, p);
        if (access(dir, X_OK) == 0)
            return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

static int start_under_callgrind(csm_bench *b, csm_bench_daemon *d, const csm_bench_kafka *k,
                                 int tag, char *err, size_t errlen)
{
    if (csm_bench_daemon_config(b, d, k->bootstrap, b->partitions, err, errlen))
        return -1;
    snprintf(d->callgrind_out, sizeof d->callgrind_out, "%s/callgrind.run.%d", b->dir, tag);
    return csm_bench_daemon_restart(d, err, errlen);
}

/* Instructions of `run` from start to SIGTERM over `events` events. */
static double run_total(csm_bench *b, long events, int tag, char *err, size_t errlen)
{
    csm_bench_kafka k;
    csm_bench_offsets hi;
    csm_bench_daemon d;
    double total = -1;
    if (csm_bench_kafka_start(b, &k, b->partitions, err, errlen))
        return -1;
    csm_bench_offsets_init(&hi, b->partitions);
    if (csm_bench_produce(b, events, 6, 0, 0, err, errlen) == 0 &&
        csm_bench_kafka_hi(&k, &hi, err, errlen) == 0 && csm_bench_flushall(b) == 0 &&
        start_under_callgrind(b, &d, &k, tag, err, errlen) == 0) {
        csm_bench_drain dr;
        int rc = csm_bench_daemon_drain(&d, &hi, 50, &dr, err, errlen);
        csm_bench_stop(&d.ch, STOP_MS);
        csm_bench_ckpt_close(&d.ck);
        if (rc == 0 && (total = callgrind_total(d.callgrind_out)) < 0)
            snprintf(err, errlen, "no callgrind totals in %s", d.callgrind_out);
    }
    csm_bench_offsets_free(&hi);
    csm_bench_kafka_stop(&k);
    return total;
}

/* The same traffic as a JSON Lines file. */
static int write_jsonl(const csm_bench *b, const char *path, long events, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    csm_gen_opts o;
    csm_bench_traffic_opts(b, &o, events, 6);
    csm_gen_result res;
    int rc = csm_gen_run(&o, csm_gen_emit_jsonl, f, &res);
    return fclose(f) || rc ? -1 : 0;
}

/* Instructions of `replay` of a file of `events` events. */
static double replay_total(csm_bench *b, long events, int tag, char *err, size_t errlen)
{
    char file[512], out[600], opt[700], self[4096];
    csm_bench_daemon d = {0};
    csm_bench_child ch;
    snprintf(file, sizeof file, "%s/replay.%d.jsonl", b->dir, tag);
    snprintf(out, sizeof out, "%s/callgrind.replay.%d", b->dir, tag);
    snprintf(opt, sizeof opt, "--callgrind-out-file=%s", out);
    if (write_jsonl(b, file, events, err, errlen) || csm_bench_flushall(b) ||
        csm_bench_daemon_config(b, &d, "127.0.0.1:9", 1, err, errlen) ||
        csm_bench_self_exe(self, sizeof self, err, errlen))
        return -1;
    csm_bench_ckpt_close(&d.ck);
    const char *argv[] = {"valgrind", "--tool=callgrind", opt,       self, "replay",
                          "-c",       d.cfg_path,         "--quiet", file, NULL};
    if (csm_bench_spawn(&ch, argv, d.ch.log, err, errlen))
        return -1;
    int status = csm_bench_wait(&ch, 30 * 60 * 1000);
    double total = callgrind_total(out);
    if (status != 0 || total < 0) {
        snprintf(err, errlen, "callgrind of replay failed (exit %d; see %s)", status, d.ch.log);
        return -1;
    }
    return total;
}

typedef double (*total_fn)(csm_bench *b, long events, int tag, char *err, size_t errlen);

/* (I(n) - I(n/4)) / (n - n/4). */
static int per_event(csm_bench *b, const char *figure, total_fn fn, char *err, size_t errlen)
{
    long small = b->cg_events / 4, big = b->cg_events;
    double a = fn(b, small, 1, err, errlen), z = a < 0 ? -1 : fn(b, big, 2, err, errlen);
    if (z < 0)
        return -1;
    csm_bench_sample(b, figure, (z - a) / (double)(big - small));
    csm_bench_say("%s: %.0f", figure, (z - a) / (double)(big - small));
    return 0;
}

int csm_bench_instructions(csm_bench *b, char *err, size_t errlen)
{
    static const char *const names[] = {"callgrind_instructions_per_event_run",
                                        "callgrind_instructions_per_event_replay"};
    const char *why = !b->callgrind       ? "not requested: add --callgrind"
                      : !valgrind_found() ? "valgrind is not installed"
                                          : NULL;
    if (why) {
        for (int i = 0; i < 2; i++)
            csm_bench_note(b, names[i], why);
        return 0;
    }
    csm_bench_say("callgrind: %ld and %ld events (slow)", b->cg_events / 4, b->cg_events);
    /* Once, whatever --runs: instruction counts barely vary run to run. */
    return per_event(b, names[0], run_total, err, errlen) ||
                   per_event(b, names[1], replay_total, err, errlen)
               ? -1
               : 0;
}
