/* Pending writes of one partition between two flushes: counter deltas
 * aggregated per (key, field), set members, alert stream entries and key
 * expiries. The Redis store writes them in one atomic step together with
 * the partition's offsets and state. */
#ifndef CSM_DELTAS_H
#define CSM_DELTAS_H

#include <stddef.h>
#include <stdint.h>

typedef struct csm_deltas csm_deltas;

csm_deltas *csm_deltas_new(void);
void csm_deltas_free(csm_deltas *d);
/* Forgets everything pending (after a flush, or a lost checkpoint race). */
void csm_deltas_clear(csm_deltas *d);
/* Number of pending operations (distinct counters + members + entries). */
size_t csm_deltas_size(const csm_deltas *d);
/* Changes with every addition and clear, and is never the same for two
 * objects of the process: equal versions mean nothing was added since. */
uint64_t csm_deltas_version(const csm_deltas *d);

/* expire_at: unix seconds for EXPIREAT on the key, 0 for none. The latest
 * value given for a key wins. */
void csm_deltas_hincr(csm_deltas *d, const char *key, const char *field, int64_t delta,
                      int64_t expire_at);
void csm_deltas_sadd(csm_deltas *d, const char *key, const char *member, int64_t expire_at);
/* ZADD key score member (the latest score given wins). */
void csm_deltas_zadd(csm_deltas *d, const char *key, const char *member, int64_t score);
/* XADD key MAXLEN = maxlen * f1 v1 f2 v2 … (n_fv strings, even). */
void csm_deltas_xadd(csm_deltas *d, const char *key, long maxlen, const char *const *fv,
                     size_t n_fv);

typedef enum csm_delta_kind {
    CSM_DELTA_HINCRBY,
    CSM_DELTA_SADD,
    CSM_DELTA_XADD,
    CSM_DELTA_ZADD,
    CSM_DELTA_EXPIREAT
} csm_delta_kind;

typedef struct csm_delta_op {
    csm_delta_kind kind;
    const char *key;
    const char *field;     /* HINCRBY field / SADD, ZADD member */
    int64_t value;         /* HINCRBY delta / ZADD score / EXPIREAT seconds */
    long maxlen;           /* XADD */
    const char *const *fv; /* XADD field/value strings */
    size_t n_fv;
} csm_delta_op;

/* Visits every pending operation: all HINCRBY/SADD/XADD/ZADD in the order they
 * were first added, then one EXPIREAT per key that has an expiry. */
typedef void (*csm_delta_visit_fn)(void *arg, const csm_delta_op *op);
void csm_deltas_foreach(const csm_deltas *d, csm_delta_visit_fn fn, void *arg);

/* Reads a counter's pending value (0 if none); for tests and the testkit. */
int64_t csm_deltas_get(const csm_deltas *d, const char *key, const char *field);

/* Moves everything pending in src into dst (adding counters), leaving src
 * empty. The testkit accumulates a whole run this way. */
void csm_deltas_merge(csm_deltas *dst, csm_deltas *src);

#endif
