/* The exactly-once Redis writer and checkpoint reader. */
#ifndef CSM_REDIS_STORE_H
#define CSM_REDIS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "deltas.h"

typedef struct csm_redis_config {
    const char *host; /* or a unix socket path starting with '/' */
    int port;
    const char *password; /* AUTH; NULL for none */
    const char *username; /* ACL user (Redis 6+); NULL for default */
    int db;
    int timeout_ms; /* connect and command timeout */
} csm_redis_config;

typedef struct csm_redis_store csm_redis_store;

/* Connects (and reconnects lazily later). NULL + err if the first
 * connection fails. */
csm_redis_store *csm_redis_store_open(const csm_redis_config *cfg, char *err, size_t errlen);
/* Same; on failure *refused = 1 when Redis answered and refused the
 * configuration (AUTH: wrong password or unknown user; NOAUTH: a password
 * is needed; SELECT: no such database): retrying cannot help. 0 for
 * connection refused, timeouts and transient replies (LOADING, BUSY…). */
csm_redis_store *csm_redis_store_try_open(const csm_redis_config *cfg, int *refused, char *err,
                                          size_t errlen);
void csm_redis_store_close(csm_redis_store *s);
/* 1 if the last command reached Redis. */
int csm_redis_store_healthy(const csm_redis_store *s);

typedef struct csm_checkpoint {
    int found;           /* 0: no checkpoint; start from the beginning */
    int64_t chat_offset; /* next offset to consume of each topic */
    int64_t order_offset;
    uint64_t seq; /* number of flushes written so far */
} csm_checkpoint;

/* The offsets and seq; the engine's state is read with ckpt_store.h.
 * 0 (found or not), -1 on a connection error (err set). */
int csm_redis_load_checkpoint(csm_redis_store *s, const char *ckpt_key, csm_checkpoint *out,
                              char *err, size_t errlen);
/* The command that reads them (5 arguments), and its reply parsed: for
 * readers that pipeline it on a connection of their own (ckpt_store.h). */
#define CSM_REDIS_CHECKPOINT_HMGET(key)                                                            \
    {                                                                                              \
        "HMGET", (key), "chat_offset", "order_offset", "seq"                                       \
    }
struct redisReply;
int csm_redis_checkpoint_parse(const struct redisReply *r, const char *ckpt_key,
                               csm_checkpoint *out, char *err, size_t errlen);

typedef struct csm_flush_part {
    const char *ckpt_key;  /* NULL: no checkpoint (offline replay) */
    uint64_t expected_seq; /* seq read at load / written at last flush */
    int64_t chat_offset, order_offset;
    /* 1: the stored checkpoint already holds these offsets (an idle tick):
     * they are not sent again. */
    int offsets_stored;
    int64_t clock; /* the engine's applied event time (INT64_MIN: none) */
    /* What changed in the engine's state (ckpt_batch.h), and its epoch
     * (csm_engine_state_epoch), part of the writer like the deltas'
     * version: a lost reply counts as landed only if neither moved. */
    const struct csm_ckpt_batch *batch;
    const struct csm_ckpt_keys *keys; /* where the batch goes (ckpt_store.h) */
    uint64_t state_epoch;
    const csm_deltas *deltas;
    /* out, when the checkpoint is not at expected_seq: */
    int conflict;        /* 1: reload it (someone else wrote, or we did and changed since) */
    int landed;          /* 1: our previous attempt (reply lost) wrote exactly this */
    uint64_t stored_seq; /* the seq found */
    int stored_by_us;    /* written by this store (this process) */
} csm_flush_part;

/* Writes every part in one MULTI/EXEC guarded by WATCH on the checkpoint
 * keys: the deltas, then each checkpoint hash with seq = expected_seq + 1
 * and writer = this store's instance id / the deltas' version . the state
 * epoch, and the batch's records. If a
 * checkpoint's stored seq differs from expected_seq, nothing is written
 * and the part is flagged: landed if it holds our own earlier attempt at
 * expected_seq with these very deltas (an EXEC whose reply was lost: the
 * caller counts that attempt as written), else conflict (another owner,
 * Redis lost data, or our lost attempt with deltas added since: reload).
 * Returns 0 written, 1 flagged parts (or a checkpoint changed during the
 * write: retry at once), -1 connection error (nothing known; retry). */
int csm_redis_flush(csm_redis_store *s, csm_flush_part *parts, size_t n, char *err, size_t errlen);

/* The same, overlapped with the caller's work: start sends the first
 * round trip and returns (-1: a flush is already in flight or its outcome
 * not yet taken); poll moves it on without waiting (or until the outcome,
 * with @p block) and returns 2 while in flight, else the outcome as above
 * (0 also when nothing was started). Until then the parts, their batches
 * and deltas must not change: the transaction is composed from them when
 * the first round trip's replies are in. Any other use of the connection
 * (csm_redis_load_checkpoint, csm_redis_store_context) first waits for the
 * flight's replies; its outcome stays for poll. */
int csm_redis_flush_start(csm_redis_store *s, csm_flush_part *parts, size_t n);
int csm_redis_flush_poll(csm_redis_store *s, int block, char *err, size_t errlen);
/* 1 from start until poll returned the outcome. */
int csm_redis_flush_busy(const csm_redis_store *s);

/* PING on the store's connection (waiting for a flush in flight first):
 * 0 answered, -1 + err (the connection is rebuilt on the next use). */
int csm_redis_store_ping(csm_redis_store *s, char *err, size_t errlen);

/* Commands sent by the last flush (for /metrics). */
uint64_t csm_redis_store_commands(const csm_redis_store *s);

#endif
