#include "reorder.h"

#include <stdlib.h>

void csm_reorder_init(csm_reorder *r)
{
    *r = (csm_reorder){0};
}

void csm_reorder_free(csm_reorder *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->heap[i]);
    while (r->free_list) {
        csm_reorder_item *it = r->free_list;
        r->free_list = it->next_free;
        free(it);
    }
    free(r->heap);
    *r = (csm_reorder){0};
}

csm_reorder_item *csm_reorder_acquire(csm_reorder *r)
{
    csm_reorder_item *it = r->free_list;
    if (it) {
        r->free_list = it->next_free;
        return it;
    }
    it = malloc(sizeof *it);
    if (!it)
        abort();
    return it;
}

void csm_reorder_release(csm_reorder *r, csm_reorder_item *it)
{
    it->next_free = r->free_list;
    r->free_list = it;
}

static int before(const csm_reorder_item *a, const csm_reorder_item *b)
{
    return a->slot.ev.ts < b->slot.ev.ts || (a->slot.ev.ts == b->slot.ev.ts && a->seq < b->seq);
}

void csm_reorder_push(csm_reorder *r, csm_reorder_item *it)
{
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
