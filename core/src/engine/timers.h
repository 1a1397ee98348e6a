/* Event-time timers of one partition: a binary heap ordered by
 * (deadline, creation order), with lookup by id for cancellation and by
 * (plugin, key) for checkpoints. Timers live in one array and the heap and
 * both lookups hold 32-bit positions in it: about 70 bytes a timer, where
 * a malloc'd entry with two uthash handles took about 280. */
#ifndef CSM_TIMERS_H
#define CSM_TIMERS_H

#include <stddef.h>
#include <stdint.h>

#include "csmetrics/plugin.h"
#include "itab.h"

typedef struct csm_timer_entry csm_timer_entry;

typedef struct csm_timers {
    csm_timer_entry *ent; /* pending and free entries */
    uint32_t n_ent, cap_ent;
    uint32_t spare; /* position + 1 of the first free entry; 0: none */
    uint32_t *heap; /* positions */
    size_t n, cap;
    csm_itab by_id;
    csm_itab by_key; /* (plugin, key) -> the newest of its timers */
    uint64_t next_id, next_seq;
} csm_timers;

typedef struct csm_timer_fired {
    uint64_t id;
    csm_ts deadline;
    uint32_t plugin;
    uint64_t key;
    uint32_t tag;
} csm_timer_fired;

void csm_timers_init(csm_timers *t);
void csm_timers_free(csm_timers *t);
uint64_t csm_timers_add(csm_timers *t, csm_ts deadline, uint32_t plugin, uint64_t key,
                        uint32_t tag);
/* 0 if a pending timer of that plugin was cancelled (*key = its key), -1
 * otherwise. */
int csm_timers_cancel(csm_timers *t, uint64_t id, uint32_t plugin, uint64_t *key);
/* Earliest deadline; 0 when there is none. */
int csm_timers_peek(const csm_timers *t, csm_ts *deadline);
void csm_timers_pop(csm_timers *t, csm_timer_fired *out);
size_t csm_timers_count(const csm_timers *t);

/* Checkpoint: every pending timer with its id and order. */
struct csm_writer;
struct csm_reader;
void csm_timers_snapshot(const csm_timers *t, struct csm_writer *w);
int csm_timers_restore(csm_timers *t, struct csm_reader *r);

/* Incremental checkpoints: a timer as saved beside its (plugin, key). */
typedef struct csm_timer_saved {
    uint64_t id, seq;
    csm_ts deadline;
    uint32_t tag;
} csm_timer_saved;
/* Every pending timer of (plugin, key), in no particular order. */
void csm_timers_foreach_of(const csm_timers *t, uint32_t plugin, uint64_t key,
                           void (*fn)(void *arg, const csm_timer_saved *s), void *arg);
void csm_timers_counters(const csm_timers *t, uint64_t *next_id, uint64_t *next_seq);
void csm_timers_set_counters(csm_timers *t, uint64_t next_id, uint64_t next_seq);
/* Re-inserts a saved timer with its id and creation order. */
void csm_timers_restore_one(csm_timers *t, const csm_timer_saved *s, uint32_t plugin, uint64_t key);

#endif
