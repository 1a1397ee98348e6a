/* The event-time reorder buffer of one partition: accepted events wait
 * here until event time minus the allowed lateness passes them, and leave
 * in (ts, arrival) order. Slots are pooled: no allocation per event once
 * the pool has grown to the buffer's working size. */
#ifndef CSM_REORDER_H
#define CSM_REORDER_H

#include <stddef.h>
#include <stdint.h>

#include "event_slot.h"

typedef struct csm_reorder_item {
    uint64_t seq; /* arrival order */
    csm_event_slot slot;
    struct csm_reorder_item *next_free;
} csm_reorder_item;

typedef struct csm_reorder {
    csm_reorder_item **heap;
    size_t n, cap;
    csm_reorder_item *free_list;
} csm_reorder;

void csm_reorder_init(csm_reorder *r);
void csm_reorder_free(csm_reorder *r);
/* A slot to fill, then csm_reorder_push it (or csm_reorder_release it). */
csm_reorder_item *csm_reorder_acquire(csm_reorder *r);
void csm_reorder_push(csm_reorder *r, csm_reorder_item *it);
/* Earliest item, or NULL. */
csm_reorder_item *csm_reorder_peek(const csm_reorder *r);
csm_reorder_item *csm_reorder_pop(csm_reorder *r);
/* Returns a popped item's slot to the pool. */
void csm_reorder_release(csm_reorder *r, csm_reorder_item *it);
size_t csm_reorder_count(const csm_reorder *r);
/* Items in no particular order, for checkpoints (i < count). */
const csm_reorder_item *csm_reorder_at(const csm_reorder *r, size_t i);

#endif
