/* Memory of accepted event ids of one partition, for "the same event_id
 * seen twice counts once". Ids are kept as 64-bit hashes of (stream, id)
 * in an open-addressing set, and forgotten in acceptance order once their
 * event time is more than the dedup window behind the partition's event
 * time (a producer's retry arrives soon after the original). */
#ifndef CSM_DEDUP_H
#define CSM_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "csmetrics/plugin.h"
#include "keyset.h"

typedef struct csm_dedup_entry {
    uint64_t hash;
    csm_ts ts;
} csm_dedup_entry;

typedef struct csm_dedup {
    csm_keyset ids;        /* the hashes (never 0) */
    size_t n;              /* entries, in the set and in the fifo */
    csm_dedup_entry *fifo; /* ring in acceptance order */
    size_t head, fifo_cap;
    /* Entries ever added and ever forgotten: the absolute position of the
     * fifo's tail and head, by which checkpoints write it as a log. */
    uint64_t added, forgotten;
} csm_dedup;

void csm_dedup_init(csm_dedup *d);
void csm_dedup_free(csm_dedup *d);
uint64_t csm_dedup_hash(csm_stream stream, const char *event_id);
int csm_dedup_contains(const csm_dedup *d, uint64_t hash);
void csm_dedup_add(csm_dedup *d, uint64_t hash, csm_ts ts);
/* Forgets the oldest entries whose ts < horizon. */
void csm_dedup_expire(csm_dedup *d, csm_ts horizon);
size_t csm_dedup_count(const csm_dedup *d);
/* The i-th entry in acceptance order (0 = oldest), for checkpoints. */
const csm_dedup_entry *csm_dedup_at(const csm_dedup *d, size_t i);

/* The entry at absolute position @p pos (forgotten <= pos < added), or NULL. */
const csm_dedup_entry *csm_dedup_at_pos(const csm_dedup *d, uint64_t pos);
/* Before restoring an empty memory from a log: the positions start at
 * @p forgotten (entries added next take forgotten, forgotten + 1, …). */
void csm_dedup_set_base(csm_dedup *d, uint64_t forgotten);

#endif
