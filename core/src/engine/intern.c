/* String interning for the hot path: strings live in chunks that never
 * move (ids hand out stable pointers), lookups go through an
 * open-addressing table of ids, and a small direct-mapped cache keyed by
 * the caller's pointer skips the hash for strings passed again from the
 * same address. Reset keeps every allocation for reuse. */
#include "intern.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES (16 * 1024)
#define CACHE_SLOTS 64 /* a power of two */

typedef struct chunk {
    struct chunk *next;
    size_t cap, used;
    char data[];
} chunk;

typedef struct entry {
    const char *s;
    uint64_t hash;
} entry;

typedef struct cached {
    const char *ptr; /* the caller's address, not ours */
    uint32_t id;
} cached;

struct csm_intern {
    chunk *head, *cur;
    entry *v;
    uint32_t n, vcap;
    uint32_t *slot; /* ids; CSM_INTERN_NONE when free */
    uint32_t mask;
    cached cache[CACHE_SLOTS];
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    return p;
}

/* Chunks past cur are empty after a reset; they are reused in order. */
static char *store(csm_intern *t, const char *s, size_t len)
{
    while (t->cur && t->cur->cap - t->cur->used <= len && t->cur->next)
        t->cur = t->cur->next;
    if (!t->cur || t->cur->cap - t->cur->used <= len) {
        size_t cap = len + 1 > CHUNK_BYTES ? len + 1 : CHUNK_BYTES;
        chunk *c = xmalloc(sizeof *c + cap);
        c->cap = cap;
        c->used = 0;
        c->next = t->cur ? t->cur->next : NULL;
        if (t->cur)
            t->cur->next = c;
        else
            t->head = c;
        t->cur = c;
    }
    char *p = t->cur->data + t->cur->used;
    memcpy(p, s, len + 1);
    t->cur->used += len + 1;
    return p;
}

/* FNV-1a with a final avalanche: ids differ mostly in their tails. */
static uint64_t hash_str(const char *s, size_t *len)
{
    uint64_t h = 1469598103934665603ull;
    const char *p = s;
    for (; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ull;
    }
    *len = (size_t)(p - s);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static void slots_alloc(csm_intern *t, uint32_t cap)
{
    free(t->slot);
    t->slot = xmalloc(cap * sizeof *t->slot);
    memset(t->slot, 0xff, cap * sizeof *t->slot);
    t->mask = cap - 1;
}

static void cache_clear(csm_intern *t)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        t->cache[i].ptr = NULL;
}

csm_intern *csm_intern_new(void)
{
    csm_intern *t = xmalloc(sizeof *t);
    memset(t, 0, sizeof *t);
    slots_alloc(t, 64);
    return t;
}

void csm_intern_free(csm_intern *t)
{
    if (!t)
        return;
    for (chunk *c = t->head, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
    free(t->v);
    free(t->slot);
    free(t);
}

void csm_intern_reset(csm_intern *t)
{
    for (chunk *c = t->head; c; c = c->next)
        c->used = 0;
    t->cur = t->head;
    if (t->n)
        memset(t->slot, 0xff, (t->mask + 1) * sizeof *t->slot);
    t->n = 0;
    cache_clear(t);
}

static void grow(csm_intern *t)
{
    slots_alloc(t, (t->mask + 1) * 2);
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t j = (uint32_t)t->v[i].hash & t->mask;
        while (t->slot[j] != CSM_INTERN_NONE)
            j = (j + 1) & t->mask;
        t->slot[j] = i;
    }
}

/* The slot holding s, or the free slot where it belongs. */
static uint32_t probe(const csm_intern *t, const char *s, uint64_t h)
{
    uint32_t j = (uint32_t)h & t->mask;
    for (;; j = (j + 1) & t->mask) {
        uint32_t i = t->slot[j];
        if (i == CSM_INTERN_NONE || (t->v[i].hash == h && !strcmp(t->v[i].s, s)))
            return j;
    }
}

static uint32_t add(csm_intern *t, uint32_t j, const char *s, size_t len, uint64_t h)
{
    if (t->n == t->vcap) {
        t->vcap = t->vcap ? t->vcap * 2 : 64;
        entry *v = realloc(t->v, t->vcap * sizeof *v);
        if (!v)
            abort();
        t->v = v;
    }
    uint32_t i = t->n++;
    t->v[i].s = store(t, s, len);
    t->v[i].hash = h;
    t->slot[j] = i;
    if (t->n * 2 > t->mask + 1)
        grow(t);
    return i;
}

static size_t cache_slot(const char *p)
{
    uintptr_t x = (uintptr_t)p;
    return (size_t)((x >> 3) ^ (x >> 11)) & (CACHE_SLOTS - 1);
}

uint32_t csm_intern_id(csm_intern *t, const char *s)
{
    cached *c = &t->cache[cache_slot(s)];
    if (c->ptr == s && !strcmp(t->v[c->id].s, s))
        return c->id;
    size_t len;
    uint64_t h = hash_str(s, &len);
    uint32_t j = probe(t, s, h);
    uint32_t id = t->slot[j] != CSM_INTERN_NONE ? t->slot[j] : add(t, j, s, len, h);
    c->ptr = s;
    c->id = id;
    return id;
}

uint32_t csm_intern_find(const csm_intern *t, const char *s)
{
    size_t len;
    return t->slot[probe(t, s, hash_str(s, &len))];
}

const char *csm_intern_str(const csm_intern *t, uint32_t id)
{
    return id < t->n ? t->v[id].s : NULL;
}

uint32_t csm_intern_count(const csm_intern *t)
{
    return t->n;
}
