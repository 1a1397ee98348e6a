#include "keyset.h"

#include <stdlib.h>
#include <string.h>

void csm_keyset_free(csm_keyset *s)
{
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* splitmix64's finaliser: entry keys are often sequential. */
static size_t home(const csm_keyset *s, uint64_t key)
{
    key ^= key >> 30;
    key *= 0xbf58476d1ce4e5b9ULL;
    key ^= key >> 27;
    return (size_t)key & (s->cap - 1);
}

static void put(csm_keyset *s, uint64_t key)
{
    size_t i = home(s, key);
    while (s->slots[i] && s->slots[i] != key)
        i = (i + 1) & (s->cap - 1);
    if (!s->slots[i]) {
        s->slots[i] = key;
        s->n++;
    }
}

static void grow(csm_keyset *s)
{
    uint64_t *old = s->slots;
    size_t old_cap = s->cap;
    s->cap = old_cap ? old_cap * 2 : 64;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (!s->slots)
        abort();
    s->n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            put(s, old[i]);
    free(old);
}

void csm_keyset_add(csm_keyset *s, uint64_t key)
{
    if (!key) {
        s->has_zero = 1;
        return;
    }
    if ((s->n + 1) * 4 > s->cap * 3)
        grow(s);
    put(s, key);
}

/* A table grown by a burst (a restore, a storm of events) would cost its
 * whole size at every flush afterwards: it shrinks back once mostly empty. */
#define SHRINK_ABOVE 4096

int csm_keyset_contains(const csm_keyset *s, uint64_t key)
{
    if (!key)
        return s->has_zero;
    if (!s->cap)
        return 0;
    for (size_t i = home(s, key);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i] == key)
            return 1;
        if (!s->slots[i])
            return 0;
    }
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
void csm_keyset_remove(csm_keyset *s, uint64_t key)
{
    if (!key) {
        s->has_zero = 0;
        return;
    }
    if (!s->cap)
        return;
    size_t mask = s->cap - 1, i = home(s, key);
    while (s->slots[i] != key) {
        if (!s->slots[i])
            return;
        i = (i + 1) & mask;
    }
    s->n--;
    for (size_t j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
        size_t h = home(s, s->slots[j]);
        /* Move j into the hole at i if its home does not lie in (i, j]. */
        int in_between = (i <= j) ? (h > i && h <= j) : (h > i || h <= j);
        if (!in_between) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = 0;
}

void csm_keyset_clear(csm_keyset *s)
{
    if (s->cap > SHRINK_ABOVE && s->n * 16 < s->cap) {
        /* Room for four times what this flush held, without regrowing. */
        size_t cap = 64;
        while (cap < s->n * 4)
            cap *= 2;
        free(s->slots);
        s->slots = calloc(cap, sizeof *s->slots);
        if (!s->slots)
            abort();
        s->cap = cap;
    } else if (s->n) {
        memset(s->slots, 0, s->cap * sizeof *s->slots);
    }
    s->n = 0;
    s->has_zero = 0;
}

int csm_keyset_foreach(const csm_keyset *s, int (*fn)(void *arg, uint64_t key), void *arg)
{
    int rc = s->has_zero ? fn(arg, 0) : 0;
    for (size_t i = 0; i < s->cap && !rc; i++)
        if (s->slots[i])
            rc = fn(arg, s->slots[i]);
    return rc;
}
