/* `csmetrics replay`: the chain of `run` on a file. File order is arrival
 * order on one partition; at the end every buffered event is applied and
 * every timer fires. The figures go to the configured Redis (added to
 * what is there, as a second producer of the same events would), or are
 * printed with --print. */
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "cli.h"
#include "codec.h"
#include "config_check.h"
#include "delta_view.h"
#include "engine.h"
#include "file_digest.h"
#include "log.h"
#include "redis_conn.h"
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
    csm_verdict v = csm_engine_offer_decoded(r->engine, &ev->ev, why, sizeof why);
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
                    "[--force] EVENTS.jsonl|EVENTS.avro...\n"
                    "  --print  print the Redis writes instead of sending them\n"
                    "  --force  replay a file already replayed into this Redis (adds its "
                    "figures again)\n");
}

/* ---- The replay guard: P:replayed:<sha256 of the file> is a stream with
 * one entry per replay of those bytes, written in the transaction of the
 * figures, so a file's figures and its record land together. ---- */

static const char *field_of(const redisReply *fv, const char *name)
{
    for (size_t i = 0; fv && fv->type == REDIS_REPLY_ARRAY && i + 1 < fv->elements; i += 2)
        if (fv->element[i]->type == REDIS_REPLY_STRING && !strcmp(fv->element[i]->str, name) &&
            fv->element[i + 1]->type == REDIS_REPLY_STRING)
            return fv->element[i + 1]->str;
    return "?";
}

/* 0 never replayed, 1 replayed (message in err), -1 Redis error. */
static int replayed_before(csm_redis_store *redis, const char *key, const char *path, char *err,
                           size_t errlen)
{
    redisContext *c = csm_redis_store_context(redis, err, errlen);
    if (!c)
        return -1;
    redisReply *r = redisCommand(c, "XREVRANGE %s + - COUNT 1", key);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "XREVRANGE %s: %s", key, r ? r->str : c->errstr);
        freeReplyObject(r);
        if (!r)
            csm_redis_store_broken(redis);
        return -1;
    }
    int seen = r->type == REDIS_REPLY_ARRAY && r->elements > 0;
    if (seen) {
        const redisReply *entry = r->element[0];
        const redisReply *fv = entry->elements == 2 ? entry->element[1] : NULL;
        snprintf(err, errlen,
                 "%s was already replayed into this Redis at %s (as %s: %s events, %s applied; "
                 "record %s); replaying it again would add its figures a second time. Use "
                 "--force to replay it anyway",
                 path, field_of(fv, "at"), field_of(fv, "file"), field_of(fv, "events"),
                 field_of(fv, "applied"), key);
    }
    freeReplyObject(r);
    return seen;
}

typedef struct replay_file {
    const char *path;
    char key[512];
    long counts[4]; /* this file's verdicts */
} replay_file;

static void record_replay(csm_deltas *d, const replay_file *f, int forced)
{
    char at[32], n[4][24], events[24];
    time_t now = time(NULL);
    struct tm tm;
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    for (int i = 0; i < 4; i++)
        snprintf(n[i], sizeof n[i], "%ld", f->counts[i]);
    snprintf(events, sizeof events, "%ld",
             f->counts[0] + f->counts[1] + f->counts[2] + f->counts[3]);
    const char *fv[] = {
        "file",      f->path, "at",   at,   "events",     events, "applied", n[0],
        "duplicate", n[1],    "late", n[2], "deadletter", n[3],   "forced",  forced ? "1" : "0"};
    csm_dkey key = {CSM_KEY_RAW, CSM_INTERN_NONE, 0, csm_intern_id(csm_deltas_names(d), f->key)};
    csm_deltas_xadd(d, &key, 0, fv, sizeof fv / sizeof *fv);
}

int csm_cmd_replay(int argc, char **argv)
{
    csm_cli_common o = {0};
    int print_only = 0, quiet = 0, force = 0;
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
        else if (!strcmp(argv[i], "--force"))
            force = 1;
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
    csm_checked ck = {0};
    csm_redis_store *redis = NULL;
    replay r = {0};
    replay_file *rf = calloc((size_t)n_files, sizeof *rf);
    r.quiet = quiet;
    if (!rf || csm_config_check(&cfg, &ck, err, sizeof err) ||
        !(r.engine = csm_engine_new(&cfg, ck.chain, ck.st, 0, err, sizeof err))) {
        fprintf(stderr, "csmetrics replay: %s\n", err);
        goto out;
    }
    /* File time is kept (no horizon), but not absurd values: events
     * before 2000 or beyond the wall clock + max_clock_skew. */
    csm_time_bounds bounds = csm_time_bounds_replay(&cfg);
    csm_engine_set_wall_clock(r.engine, &bounds, csm_wall_clock_ms());
    csm_engine_ckpt_off(r.engine); /* replay writes no checkpoint */
    if (!print_only && !(redis = csm_redis_store_open(&cfg.redis, err, sizeof err))) {
        fprintf(stderr, "csmetrics replay: %s\n", err);
        goto out;
    }
    for (int f = 0; f < n_files && redis; f++) {
        char sha[65];
        rf[f].path = files[f];
        if (csm_file_sha256(files[f], sha, err, sizeof err)) {
            fprintf(stderr, "csmetrics replay: %s\n", err);
            goto out;
        }
        snprintf(rf[f].key, sizeof rf[f].key, "%s:replayed:%s", cfg.prefix, sha);
        int seen = replayed_before(redis, rf[f].key, files[f], err, sizeof err);
        if (seen < 0 || (seen && !force)) {
            fprintf(stderr, "csmetrics replay: %s%s\n", seen < 0 ? "redis: " : "", err);
            goto out;
        }
    }
    for (int f = 0; f < n_files; f++) {
        long before[4];
        memcpy(before, r.counts, sizeof before);
        if (csm_codec_read_file(ck.codec, files[f], on_record, &r, err, sizeof err) != 0) {
            fprintf(stderr, "csmetrics replay: %s: %s\n", files[f], err);
            goto out;
        }
        for (int v = 0; v < 4; v++)
            rf[f].counts[v] = r.counts[v] - before[v];
    }
    csm_engine_finish(r.engine);
    csm_deltas *d = csm_engine_deltas(r.engine);
    /* At the end of input every timer has fired, and so every shop-day
     * decision (SATISFACTION_BELOW_TARGET) is due. */
    if (print_only) {
        csm_sbt_close_in_deltas(&cfg, ck.st, d, INT64_MAX);
        csm_deltas_foreach(d, print_op, stdout);
    } else {
        for (int f = 0; f < n_files; f++)
            record_replay(d, &rf[f], force);
        csm_flush_part part = {.deltas = d};
        if (csm_redis_flush(redis, &part, 1, err, sizeof err) != 0 ||
            csm_sbt_close_due(redis, &cfg, ck.st, INT64_MAX, 0, 0, NULL, NULL, err, sizeof err) <
                0) {
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
    csm_checked_free(&ck);
    csm_config_free(&cfg);
    free(rf);
    return rc;
}
