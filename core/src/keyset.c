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

void csm_keyset_clear(csm_keyset *s)
{
    if (s->n)
        memset(s->slots, 0, s->cap * sizeof *s->slots);
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
