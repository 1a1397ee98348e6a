/* The checkpoint's records in Redis (docs/redis-keys.md): a batch becomes
 * HSET/HDEL/DEL commands inside the flush's MULTI, and a checkpoint is
 * read back section by section. Section "" is the checkpoint hash
 * P:ckpt:GROUP:N itself; any other lives in P:{P:ckpt:GROUP:N}:SECTION,
 * whose hash tag is the checkpoint key: a partition's whole checkpoint
 * hashes to one slot, and every key still starts with the prefix. */
#ifndef CSM_CKPT_STORE_H
#define CSM_CKPT_STORE_H

#include <stddef.h>

#include "ckpt_batch.h"
#include "redis_store.h"

/* Fields per HSET/HDEL command: bounds a command's size. */
#define CSM_CKPT_FIELDS_PER_CMD 256

/* Where a checkpoint's keys are: the checkpoint key and the common start
 * of its other keys, "P:{P:ckpt:GROUP:N}". */
typedef struct csm_ckpt_keys {
    char ckpt[256];
    char base[300];
} csm_ckpt_keys;
/* From the prefix and the checkpoint key; 0, or -1 when they do not fit. */
int csm_ckpt_keys_init(csm_ckpt_keys *k, const char *prefix, const char *ckpt_key);
/* The Redis key of @p section; -1 when it does not fit. */
int csm_ckpt_section_key(char *out, size_t n, const csm_ckpt_keys *k, const char *section);

/* The fields @p b sets in the checkpoint hash itself (section ""),
 * appended to argv/lens from *argc, at most @p max in all: the flush sends
 * them in its one HSET of the checkpoint (so an idle tick is one HSET). */
void csm_ckpt_store_core_args(const csm_ckpt_batch *b, const char **argv, size_t *lens, int *argc,
                              int max);

/* Queues the batch's other commands (not the checkpoint hash's fields);
 * returns how many, or -1 (connection). */
long csm_ckpt_store_append(csm_redis_store *s, const csm_ckpt_keys *k, const csm_ckpt_batch *b);

/* Reads a checkpoint through @p s; @p src must outlive the source. */
typedef struct csm_ckpt_redis {
    csm_redis_store *s;
    const csm_ckpt_keys *keys;
} csm_ckpt_redis;
csm_ckpt_source csm_ckpt_store_source(csm_ckpt_redis *src);

/* Loading many checkpoints, pipelined on a connection of its own: while
 * one partition's records are decoded, Redis is already sending the next
 * one's. Per partition, send() queues the HMGET of its offsets and seq
 * (first, so they are read before its records, as the one-by-one load
 * does) and an HGETALL per section; the reads then take the replies in
 * that order, skipping those of sections the load does not ask for. */
struct redisContext;
typedef struct csm_ckpt_prefetch {
    struct redisContext *c;
    struct csm_ckpt_pending *q; /* what each reply on its way answers */
    size_t head, n, cap;
    int broken; /* a transport error: every later read fails (retry) */
    int timeout_ms;
} csm_ckpt_prefetch;

/* Connects; -1 + err when Redis is unreachable. */
int csm_ckpt_prefetch_open(csm_ckpt_prefetch *p, const csm_redis_config *cfg, char *err,
                           size_t errlen);
void csm_ckpt_prefetch_close(csm_ckpt_prefetch *p);
/* Queues the reads of one checkpoint: its offsets and the @p n sections
 * (csm_engine_ckpt_sections() order). -1 when it cannot be queued. */
int csm_ckpt_prefetch_send(csm_ckpt_prefetch *p, const csm_ckpt_keys *k,
                           const char (*sections)[CSM_CKPT_SECTION_MAX], size_t n);
/* The offsets and seq of @p k (csm_redis_load_checkpoint's contract). */
int csm_ckpt_prefetch_head(csm_ckpt_prefetch *p, const csm_ckpt_keys *k, csm_checkpoint *out,
                           char *err, size_t errlen);
/* Its records, as a source; @p src must outlive the source. */
typedef struct csm_ckpt_prefetched {
    csm_ckpt_prefetch *p;
    const csm_ckpt_keys *keys;
} csm_ckpt_prefetched;
csm_ckpt_source csm_ckpt_prefetch_source(csm_ckpt_prefetched *src);

#endif
