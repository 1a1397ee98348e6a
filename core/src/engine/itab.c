#include "itab.h"

#include <stdlib.h>

void csm_itab_init(csm_itab *t, csm_itab_hash_fn hash, const void *ctx)
{
    *t = (csm_itab){.hash = hash, .ctx = ctx};
}

void csm_itab_free(csm_itab *t)
{
    free(t->slot);
    csm_itab_init(t, t->hash, t->ctx);
}

static size_t slots(const csm_itab *t)
{
    return t->slot ? t->mask + 1 : 0;
}

uint32_t *csm_itab_find(const csm_itab *t, uint64_t h, csm_itab_match_fn match, const void *key)
{
    if (!t->n)
        return NULL;
    for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
        if (!t->slot[i])
            return NULL;
        if (match(t->ctx, t->slot[i] - 1, key))
            return &t->slot[i];
    }
}

static void place(csm_itab *t, uint64_t h, uint32_t stored)
{
    size_t i = (size_t)h & t->mask;
    while (t->slot[i])
        i = (i + 1) & t->mask;
    t->slot[i] = stored;
}

/* Rebuilds the index at @p cap slots. */
static void resize(csm_itab *t, size_t cap)
{
    uint32_t *was = t->slot;
    size_t old = slots(t);
    if (!(t->slot = calloc(cap, sizeof *t->slot)))
        abort();
    t->mask = cap - 1;
    for (size_t i = 0; i < old; i++)
        if (was[i])
            place(t, t->hash(t->ctx, was[i] - 1), was[i]);
    free(was);
}

void csm_itab_add(csm_itab *t, uint64_t h, uint32_t pos)
{
    if ((t->n + 1) * 4 > slots(t) * 3)
        resize(t, slots(t) ? slots(t) * 2 : 16);
    place(t, h, pos + 1);
    t->n++;
}

/* An index grown by a burst (a million open sessions closing) shrinks
 * back once it is mostly empty. */
#define SHRINK_ABOVE 1024

void csm_itab_del(csm_itab *t, uint32_t *slot)
{
    size_t i = (size_t)(slot - t->slot);
    for (size_t j = (i + 1) & t->mask; t->slot[j]; j = (j + 1) & t->mask) {
        size_t home = (size_t)t->hash(t->ctx, t->slot[j] - 1) & t->mask;
        /* Move back unless its home lies in the cyclic range (i, j]. */
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->slot[i] = t->slot[j];
            i = j;
        }
    }
    t->slot[i] = 0;
    t->n--;
    if (slots(t) > SHRINK_ABOVE && t->n * 8 < slots(t))
        resize(t, slots(t) / 4);
}
