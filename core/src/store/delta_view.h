/* Pending writes seen as Redis commands with their key and field strings:
 * for `replay --print`, the test kit and tests. Each call renders the
 * strings (delta_keys.c); the flush itself uses delta_writer.c. */
#ifndef CSM_DELTA_VIEW_H
#define CSM_DELTA_VIEW_H

#include <stdint.h>

#include "deltas.h"

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

/* Visits every pending operation, key by key in first-insertion order
 * (each key's items in theirs), then one EXPIREAT per key that has an
 * expiry. The strings are valid during the call only. */
typedef void (*csm_delta_visit_fn)(void *arg, const csm_delta_op *op);
void csm_deltas_foreach(const csm_deltas *d, csm_delta_visit_fn fn, void *arg);

/* A counter's pending value by key and field strings (0 if none): a scan
 * of the keys, for tests and the test kit. */
int64_t csm_deltas_get(const csm_deltas *d, const char *key, const char *field);

#endif
