/* `csmetrics replay`: the chain of `run` on a file. File order is arrival
 * order on one partition; at the end every buffered event is applied and
 * every timer fires. The figures go to the configured Redis (added to
 * what is there, as a second producer of the same events would), or are
 * printed with --print. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "cli.h"
#include "codec.h"
#include "engine.h"
#include "log.h"
#include "redis_store.h"
#include "sbt_redis.h"

typedef struct replay {
    csm_engine *engine;
    long counts[4]; /* by csm_verdict */
    long undecodable;
    int quiet;
} replay;

static int on_record(void *arg, long index, int ok, const csm_event_slot *ev, const char *reason,
                     const void *raw, size_t raw_len)
{
    replay *r = arg;
    char why[512];
    if (!ok) {
        r->undecodable++;
        r->counts[CSM_VERDICT_DEADLETTER]++;
        if (!r->quiet)
            csm_logf(CSM_LOG_WARN, "replay", "record %ld: dead letter: %s", index + 1, reason);
        return 0;
    }
    csm_verdict v = csm_engine_offer(r->engine, &ev->ev, why, sizeof why);
    r->counts[v]++;
    if (v != CSM_VERDICT_ACCEPTED && v != CSM_VERDICT_DUPLICATE && !r->quiet)
        csm_logf(CSM_LOG_WARN, "replay", "record %ld (event %s): %s", index + 1,
                 ev->ev.event_id ? ev->ev.event_id : "?", why);
    return 0;
}

static void print_op(void *arg, const csm_delta_op *op)
{
    FILE *out = arg;
    switch (op->kind) {
    case CSM_DELTA_HINCRBY:
        fprintf(out, "HINCRBY %s %s %lld\n", op->key, op->field, (long long)op->value);
        break;
    case CSM_DELTA_SADD:
        fprintf(out, "SADD %s %s\n", op->key, op->field);
        break;
    case CSM_DELTA_XADD:
        fprintf(out, "XADD %s", op->key);
        for (size_t i = 0; i < op->n_fv; i++)
            fprintf(out, " %s", op->fv[i]);
        fputc('\n', out);
        break;
    case CSM_DELTA_ZADD:
        fprintf(out, "ZADD %s %lld %s\n", op->key, (long long)op->value, op->field);
        break;
    case CSM_DELTA_EXPIREAT:
        break;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: csmetrics replay [-c FILE] [--redis HOST:PORT] [--print] [--quiet] "
                    "EVENTS.jsonl|EVENTS.avro...\n"
                    "  --print  print the Redis writes instead of sending them\n");
}

int csm_cmd_replay(int argc, char **argv)
{
    csm_cli_common o = {0};
    int print_only = 0, quiet = 0;
    const char *files[64];
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        int c = csm_cli_common_arg(&o, argc, argv, &i);
        if (c < 0)
            return 2;
        if (c)
            continue;
        if (!strcmp(argv[i], "--print"))
            print_only = 1;
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage();
            return 0;
        } else if (argv[i][0] == '-' || n_files == 64) {
            usage();
            return 2;
        } else
            files[n_files++] = argv[i];
    }
    if (!n_files) {
        usage();
        return 2;
    }
    csm_config cfg;
    if (csm_cli_load_config(&o, &cfg))
        return 2;
    int rc = 1;
    char err[1024];
    csm_chain *chain = NULL;
    csm_shoptime *st = NULL;
    csm_codec *codec = NULL;
    csm_redis_store *redis = NULL;
    replay r = {0};
    r.quiet = quiet;
    if (!(chain = csm_chain_load(&cfg, err, sizeof err)) ||
        !(st = csm_shoptime_new(&cfg, err, sizeof err)) ||
        !(codec = csm_codec_new(cfg.schema_dir, err, sizeof err)) ||
        !(r.engine = csm_engine_new(&cfg, chain, st, 0, err, sizeof err))) {
        fprintf(stderr, "csmetrics replay: %s\n", err);
        goto out;
    }
    /* File time is kept (no horizon), but not absurd values: events
     * before 2000 or beyond the wall clock + max_clock_skew. */
    csm_time_bounds bounds = csm_time_bounds_replay(&cfg);
    csm_engine_set_wall_clock(r.engine, &bounds, csm_wall_clock_ms());
    if (!print_only && !(redis = csm_redis_store_open(&cfg.redis, err, sizeof err))) {
        fprintf(stderr, "csmetrics replay: redis %s:%d: %s\n", cfg.redis.host, cfg.redis.port, err);
        goto out;
    }
    for (int f = 0; f < n_files; f++)
        if (csm_codec_read_file(codec, files[f], on_record, &r, err, sizeof err) != 0) {
            fprintf(stderr, "csmetrics replay: %s: %s\n", files[f], err);
            goto out;
        }
    csm_engine_finish(r.engine);
    csm_deltas *d = csm_engine_deltas(r.engine);
    /* At the end of input every timer has fired, and so every shop-day
     * decision (SATISFACTION_BELOW_TARGET) is due. */
    if (print_only) {
        csm_sbt_close_in_deltas(&cfg, st, d, INT64_MAX);
        csm_deltas_foreach(d, print_op, stdout);
    } else {
        csm_flush_part part = {.deltas = d};
        if (csm_redis_flush(redis, &part, 1, err, sizeof err) != 0 ||
            csm_sbt_close_due(redis, &cfg, st, INT64_MAX, 0, NULL, NULL, err, sizeof err) < 0) {
            fprintf(stderr, "csmetrics replay: writing to Redis failed: %s\n", err);
            goto out;
        }
    }
    fprintf(stderr,
            "replayed %ld events: %ld applied, %ld duplicate, %ld late, %ld dead letter "
            "(%ld undecodable); %zu Redis operations%s\n",
            r.counts[0] + r.counts[1] + r.counts[2] + r.counts[3], r.counts[0], r.counts[1],
            r.counts[2], r.counts[3], r.undecodable, csm_deltas_size(d),
            print_only ? " printed" : " written");
    rc = 0;
out:
    csm_engine_free(r.engine);
    csm_redis_store_close(redis);
    csm_codec_free(codec);
    csm_shoptime_free(st);
    csm_chain_free(chain);
    csm_config_free(&cfg);
    return rc;
}
