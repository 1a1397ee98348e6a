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

#endif
