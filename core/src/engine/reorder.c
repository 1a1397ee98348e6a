#include "reorder.h"

#include <stddef.h>
#include <stdlib.h>

/* Any event the engine accepts fits in one pool block. */
_Static_assert(offsetof(csm_reorder_item, str) + CSM_EVENT_STRINGS_MAX <= CSM_POOL_MAX_BLOCK,
               "a buffered event's block exceeds the pool's largest");

void csm_reorder_init(csm_reorder *r)
{
    *r = (csm_reorder){0};
}

void csm_reorder_free(csm_reorder *r)
{
    csm_pool_destroy(&r->pool);
    free(r->heap);
    *r = (csm_reorder){0};
}

void csm_reorder_release(csm_reorder *r, csm_reorder_item *it)
{
    csm_pool_free(&r->pool, it, it->size);
}

/* The copy goes to a block of exactly the size its strings need. */
static csm_reorder_item *store(csm_reorder *r, uint64_t seq, const csm_event *ev)
{
    size_t strings = csm_event_strings_size(ev);
    if (strings > CSM_EVENT_STRINGS_MAX)
        return NULL;
    size_t size = offsetof(csm_reorder_item, str) + strings;
    csm_reorder_item *it = csm_pool_alloc(&r->pool, size);
    it->seq = seq;
    it->size = (uint32_t)size;
    csm_event_pack(&it->ev, it->str, ev);
    return it;
}

static int before(const csm_reorder_item *a, const csm_reorder_item *b)
{
    return a->ev.ts < b->ev.ts || (a->ev.ts == b->ev.ts && a->seq < b->seq);
}

int csm_reorder_push(csm_reorder *r, uint64_t seq, const csm_event *ev)
{
    csm_reorder_item *it = store(r, seq, ev);
    if (!it)
        return -1;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        csm_reorder_item **h = realloc(r->heap, r->cap * sizeof *h);
        if (!h)
            abort();
        r->heap = h;
    }
    size_t i = r->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(it, r->heap[parent]))
            break;
        r->heap[i] = r->heap[parent];
        i = parent;
    }
    r->heap[i] = it;
    return 0;
}

/* A heap array grown by a burst is given back once the buffer is empty. */
#define SHRINK_ABOVE 256

static void drop_heap(csm_reorder *r)
{
    free(r->heap);
    r->heap = NULL;
    r->cap = 0;
}

csm_reorder_item *csm_reorder_peek(const csm_reorder *r)
{
    return r->n ? r->heap[0] : NULL;
}

csm_reorder_item *csm_reorder_pop(csm_reorder *r)
{
    if (!r->n)
        return NULL;
    csm_reorder_item *top = r->heap[0], *last = r->heap[--r->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->n)
            break;
        if (c + 1 < r->n && before(r->heap[c + 1], r->heap[c]))
            c++;
        if (!before(r->heap[c], last))
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (r->n)
        r->heap[i] = last;
    else if (r->cap > SHRINK_ABOVE)
        drop_heap(r);
    return top;
}

size_t csm_reorder_count(const csm_reorder *r)
{
    return r->n;
}

const csm_reorder_item *csm_reorder_at(const csm_reorder *r, size_t i)
{
    return i < r->n ? r->heap[i] : NULL;
}
