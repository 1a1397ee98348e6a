/* The event-time reorder buffer of one partition: accepted events wait
 * here until event time minus the allowed lateness passes them, and leave
 * in (ts, arrival) order. Each event is stored in a pool block sized to
 * its strings (a few hundred bytes, not the CSM_EVENT_STRINGS_MAX of a
 * decoding slot): no allocation per event once the pool has grown to the
 * buffer's working size, and the pool's memory goes back once the buffer
 * is empty. */
#ifndef CSM_REORDER_H
#define CSM_REORDER_H

#include <stddef.h>
#include <stdint.h>

#include "event_slot.h"
#include "pool.h"

typedef struct csm_reorder_item {
    uint64_t seq;  /* arrival order */
    csm_event ev;  /* its strings point into str */
    uint32_t size; /* bytes of the block */
    char str[];
} csm_reorder_item;

typedef struct csm_reorder {
    csm_reorder_item **heap;
    size_t n, cap;
    csm_pool pool;
} csm_reorder;

void csm_reorder_init(csm_reorder *r);
void csm_reorder_free(csm_reorder *r);
/* Stores a copy of @p ev, arrived as @p seq. -1 (nothing stored) when its
 * strings, NULs included, exceed CSM_EVENT_STRINGS_MAX bytes. */
int csm_reorder_push(csm_reorder *r, uint64_t seq, const csm_event *ev);
/* Earliest item, or NULL. */
csm_reorder_item *csm_reorder_peek(const csm_reorder *r);
/* Takes the earliest item out; it stays valid until csm_reorder_release. */
csm_reorder_item *csm_reorder_pop(csm_reorder *r);
void csm_reorder_release(csm_reorder *r, csm_reorder_item *it);
size_t csm_reorder_count(const csm_reorder *r);
/* Items in no particular order, for checkpoints (i < count). */
const csm_reorder_item *csm_reorder_at(const csm_reorder *r, size_t i);

#endif
