/* Checkpoint write and restore cost with many open entries (issue 10:
 * "kill -9 → processing again with 1 M open sessions ≤ 10 s"). Not a test:
 * it measures, against a running redis-server.
 *
 *   ckpt_bench PORT ENTRIES PARTITIONS [CONFIG_YAML]
 *
 * For each partition: a fresh engine of the chain (default: the tally test
 * plugin; e.g. "plugins: [session]" for open sessions) receives
 * ENTRIES/PARTITIONS customer messages from distinct customers, applies
 * them, and writes its checkpoint to Redis with the flush of `run`. Then
 * every partition is restored in turn as `run` does at assignment (offsets,
 * then the engine from its records), and an idle tick is flushed. Prints
 * one line: entries, partitions, write_ms, restore_ms, restored_entries,
 * idle_bytes (checkpoint bytes an idle tick writes over all partitions). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "ckpt_batch.h"
#include "ckpt_store.h"
#include "codec.h"
#include "config.h"
#include "engine.h"
#include "keys.h"
#include "log.h"
#include "redis_store.h"
#include "shoptime.h"
#include "time_bounds.h"

#define T0 1795140000000LL /* 2026-11-20T10:00:00+08:00 */

typedef struct bench {
    csm_config cfg;
    csm_chain *chain;
    csm_shoptime *st;
    csm_redis_store *redis;
    csm_ckpt_batch batch;
} bench;

static void die(const char *what, const char *err)
{
    fprintf(stderr, "ckpt_bench: %s: %s\n", what, err);
    exit(1);
}

static void feed(csm_engine *e, int partition, long n)
{
    char line[512], reason[256];
    csm_event_slot slot = {0};
    for (long i = 0; i < n; i++) {
        int len = snprintf(line, sizeof line,
                           "{\"stream\":\"chat\",\"event_id\":\"p%d-%ld\",\"platform\":\"DOUYIN\","
                           "\"shop_id\":\"s%ld\",\"customer_id\":\"c%d-%ld\",\"ts\":%lld,"
                           "\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\",\"msg_kind\":\"TEXT\"}",
                           partition, i, i % 50, partition, i, T0 + i);
        if (csm_json_decode_line(line, (size_t)len, &slot, reason, sizeof reason) ||
            csm_engine_offer(e, &slot.ev, reason, sizeof reason) != CSM_VERDICT_ACCEPTED)
            die("offer", reason);
    }
    csm_engine_advance_to(e, T0 + n + 6000);
}

static size_t batch_bytes(const csm_ckpt_batch *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        n += strlen(b->ops[i].field) + b->ops[i].value_len;
    return n;
}

/* One flush as `run` does it; returns the checkpoint bytes of the batch. */
static size_t flush(bench *b, csm_engine *e, uint64_t seq, const csm_ckpt_keys *k)
{
    char err[512];
    if (csm_engine_ckpt_build(e, &b->batch, err, sizeof err))
        die("build", err);
    csm_flush_part part = {.ckpt_key = k->ckpt,
                           .expected_seq = seq,
                           .chat_offset = 0,
                           .order_offset = 0,
                           .clock = csm_engine_clock(e),
                           .batch = &b->batch,
                           .keys = k,
                           .state_epoch = csm_engine_state_epoch(e),
                           .deltas = csm_engine_deltas(e)};
    if (csm_redis_flush(b->redis, &part, 1, err, sizeof err))
        die("flush", err);
    csm_engine_ckpt_committed(e);
    csm_deltas_clear(csm_engine_deltas(e));
    return batch_bytes(&b->batch);
}

static void keys_of(const bench *b, int p, csm_ckpt_keys *k)
{
    char ckpt[256], group[32];
    /* A group of its own: a second run on the same Redis starts afresh. */
    snprintf(group, sizeof group, "bench-%d", (int)getpid());
    csm_key_checkpoint(ckpt, sizeof ckpt, b->cfg.prefix, group, p);
    csm_ckpt_keys_init(k, b->cfg.prefix, ckpt);
}

static csm_engine *restore(bench *b, int p, const csm_ckpt_keys *k, uint64_t *seq)
{
    char err[512];
    csm_checkpoint ck;
    if (csm_redis_load_checkpoint(b->redis, k->ckpt, &ck, err, sizeof err) || !ck.found)
        die("load checkpoint", ck.found ? err : "not found");
    csm_engine *e = csm_engine_new(&b->cfg, b->chain, b->st, p, err, sizeof err);
    csm_ckpt_redis rs = {b->redis, k};
    csm_ckpt_source src = csm_ckpt_store_source(&rs);
    if (!e || csm_engine_ckpt_load(e, &src, "bench", err, sizeof err))
        die("restore", err);
    *seq = ck.seq;
    return e;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: ckpt_bench PORT ENTRIES PARTITIONS [CONFIG_YAML]\n");
        return 2;
    }
    bench b = {0};
    char err[512];
    long entries = atol(argv[2]);
    int parts = atoi(argv[3]);
    if (entries <= 0 || parts <= 0 || parts > 1024)
        die("arguments", "ENTRIES > 0, PARTITIONS 1..1024");
    if (csm_config_load_string(argc > 4 ? argv[4] : "plugins: [tally]\n", &b.cfg, err,
                               sizeof err) ||
        !(b.chain = csm_chain_load(&b.cfg, err, sizeof err)) ||
        !(b.st = csm_shoptime_new(&b.cfg, err, sizeof err)))
        die("setup", err);
    csm_redis_config rc = {.host = "127.0.0.1", .port = atoi(argv[1]), .timeout_ms = 60000};
    if (!(b.redis = csm_redis_store_open(&rc, err, sizeof err)))
        die("redis", err);

    int64_t t0 = csm_monotonic_ms(), write_ms = 0;
    for (int p = 0; p < parts; p++) {
        csm_ckpt_keys k;
        keys_of(&b, p, &k);
        csm_engine *e = csm_engine_new(&b.cfg, b.chain, b.st, p, err, sizeof err);
        if (!e)
            die("engine", err);
        feed(e, p, entries / parts);
        int64_t w0 = csm_monotonic_ms();
        flush(&b, e, 0, &k);
        write_ms += csm_monotonic_ms() - w0;
        csm_engine_free(e);
    }
    int64_t t1 = csm_monotonic_ms();
    uint64_t restored = 0;
    size_t idle_bytes = 0;
    csm_engine **engines = calloc((size_t)parts, sizeof *engines);
    uint64_t *seqs = calloc((size_t)parts, sizeof *seqs);
    for (int p = 0; p < parts; p++) {
        csm_ckpt_keys k;
        keys_of(&b, p, &k);
        engines[p] = restore(&b, p, &k, &seqs[p]);
        restored += csm_engine_state_entries(engines[p]);
    }
    int64_t t2 = csm_monotonic_ms();
    for (int p = 0; p < parts; p++) {
        csm_ckpt_keys k;
        keys_of(&b, p, &k);
        csm_engine_advance_to(engines[p], csm_engine_event_time(engines[p]) + 1);
        idle_bytes += flush(&b, engines[p], seqs[p], &k);
        csm_engine_free(engines[p]);
    }
    printf("result entries=%ld partitions=%d feed_and_write_ms=%" PRId64 " write_ms=%" PRId64
           " restore_ms=%" PRId64 " restored_entries=%" PRIu64 " idle_bytes=%zu\n",
           entries, parts, t1 - t0, write_ms, t2 - t1, restored, idle_bytes);
    free(engines);
    free(seqs);
    csm_ckpt_batch_free(&b.batch);
    csm_redis_store_close(b.redis);
    csm_shoptime_free(b.st);
    csm_chain_free(b.chain);
    csm_config_free(&b.cfg);
    return 0;
}
